"""Where the cell exports read cells: the `CellSource` interface, DynamoDB and in-memory versions.

The DynamoDB version reads with the low-level client (no model objects: ~10× less CPU per row,
which is what bounds a full export) and never scans the whole stations table:

- full export: a parallel Scan (`Segment`/`TotalSegments`) of the sparse `by_area` index, which
  holds the cells only — Wi-Fi and Bluetooth rows are never read;
- hourly diff: Queries of the `by_changed_hour` index partitions of one hour (store.change_feed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from openloc.model.keys import area_of
from openloc.model.records import StationRecord
from openloc.store.change_feed import CHANGE_ATTRIBUTE, CHANGE_INDEX, changed_hour, hour_partitions
from openloc.store.parallel import flatten, merged_batches

if TYPE_CHECKING:
    from openloc.settings import Settings
    from openloc.store.stations import MemoryStationStore

CELLS_INDEX = "by_area"
# What an export row needs (block fields: blocked cells are excluded); every name is aliased so
# no attribute can collide with a DynamoDB reserved word.
_ATTRIBUTES = (
    "pk", "lat", "lon", "radius", "samples", "psc", "created", "modified", "block_count", "block_last",
    "region", "held",
)  # fmt: skip
_NAMES = {f"#a{i}": name for i, name in enumerate(dict.fromkeys(_ATTRIBUTES))}
_PROJECTION = ", ".join(_NAMES)


class CellSource(Protocol):
    def scan_cells(self, segment: int, total_segments: int) -> Iterator[StationRecord]:
        """One segment of all cells (segments partition the cells; order unspecified)."""
        ...

    def cells_changed(self, partition: str) -> Iterator[StationRecord]:
        """The cells in one `by_changed_hour` partition (`YYYYMMDDHH#NN`)."""
        ...

    def approximate_count(self) -> int | None:
        """About how many cells there are (DynamoDB updates its item counts every ~6 hours; None
        while it has not counted them): progress bars, and what a sharded export sizes its
        shards by."""
        ...


def _number(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value.get("N") if value else None


def _time(item: dict[str, Any], name: str) -> datetime | None:
    value = item.get(name)
    return datetime.fromisoformat(value["S"]) if value and "S" in value else None


def record_from_raw(item: dict[str, Any]) -> StationRecord:
    """A StationRecord from a low-level DynamoDB item (only the exported attributes)."""
    lat, lon = _number(item, "lat"), _number(item, "lon")
    psc, block_count = _number(item, "psc"), _number(item, "block_count")
    block_last, region, held = item.get("block_last"), item.get("region"), item.get("held")
    return StationRecord(
        key=item["pk"]["S"],
        lat=float(lat) if lat is not None else None,
        lon=float(lon) if lon is not None else None,
        radius=float(_number(item, "radius") or 0),
        samples=int(_number(item, "samples") or 0),
        psc=int(psc) if psc is not None else None,
        created=_time(item, "created"),
        modified=_time(item, "modified"),
        block_count=int(block_count) if block_count is not None else 0,
        block_last=block_last.get("S") if block_last else None,
        region=region.get("S") if region else None,
        held=bool(held.get("BOOL")) if held else False,
    )


class DynamoCellSource:
    def __init__(self, dynamodb: Any, table: str, page_size: int | None = None) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.page_size = page_size

    @classmethod
    def from_settings(cls, settings: Settings) -> DynamoCellSource:
        from openloc.store.aws import client

        return cls(client("dynamodb"), settings.stations_table)

    def _pages(self, operation: str, **params: Any) -> Iterator[StationRecord]:
        params = {
            "TableName": self.table,
            "ProjectionExpression": _PROJECTION,
            "ExpressionAttributeNames": dict(_NAMES),
            **params,
        }
        if self.page_size:
            params["Limit"] = self.page_size
        call = getattr(self.dynamodb, operation)
        while True:
            page = call(**params)
            for item in page.get("Items", []):
                yield record_from_raw(item)
            start = page.get("LastEvaluatedKey")
            if not start:
                return
            params["ExclusiveStartKey"] = start

    def approximate_count(self) -> int | None:
        """The cells in the `by_area` index as DynamoDB last counted them (refreshed about every
        six hours: for a progress bar, not for accounting); None when unknown."""
        table = self.dynamodb.describe_table(TableName=self.table)["Table"]
        for index in table.get("GlobalSecondaryIndexes", []):
            if index.get("IndexName") == CELLS_INDEX and index.get("ItemCount"):
                return int(index["ItemCount"])
        return None

    def scan_cells(self, segment: int, total_segments: int) -> Iterator[StationRecord]:
        return self._pages("scan", IndexName=CELLS_INDEX, Segment=segment, TotalSegments=total_segments)

    def cells_changed(self, partition: str) -> Iterator[StationRecord]:
        names = {**_NAMES, "#c": CHANGE_ATTRIBUTE}
        return self._pages(
            "query",
            IndexName=CHANGE_INDEX,
            KeyConditionExpression="#c = :p",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":p": {"S": partition}},
        )


class MemoryCellSource:
    """Cells of a `MemoryStationStore` (unit tests, benchmarks): same partitioning rules."""

    def __init__(self, store: MemoryStationStore) -> None:
        self.store = store

    def _cells(self) -> list[StationRecord]:
        return [r for k, r in sorted(self.store.stations.items()) if area_of(k) is not None]

    def scan_cells(self, segment: int, total_segments: int) -> Iterator[StationRecord]:
        cells = self._cells()
        return iter(cells[segment::total_segments])

    def cells_changed(self, partition: str) -> Iterator[StationRecord]:
        return iter([r for r in self._cells() if changed_hour(r.key, r.modified) == partition])

    def approximate_count(self) -> int:
        return sum(1 for key in self.store.stations if area_of(key) is not None)


DEFAULT_SEGMENTS = 4


def all_cells(source: CellSource, segments: int = DEFAULT_SEGMENTS) -> Iterator[StationRecord]:
    """Every cell, read by `segments` parallel Scan segments (threads, bounded memory)."""
    return segment_cells(source, range(segments), segments)


def segment_cells(
    source: CellSource, segments: Iterable[int], total_segments: int
) -> Iterator[StationRecord]:
    """The cells of some of `total_segments` Scan segments, each read in its own thread (one
    shard of a sharded export reads a few consecutive segments)."""
    producers = [partial(source.scan_cells, s, total_segments) for s in segments]
    return flatten(merged_batches(producers))


def changed_cells(source: CellSource, hour_start: datetime, threads: int = 4) -> Iterator[StationRecord]:
    """Cells whose last change falls in the hour starting at `hour_start` (the hour's index
    partitions, queried in `threads` threads)."""
    partitions = hour_partitions(hour_start)
    end = hour_start + timedelta(hours=1)
    groups = [partitions[i::threads] for i in range(threads)]

    def produce(group: list[str]) -> Iterator[StationRecord]:
        for partition in group:
            for record in source.cells_changed(partition):
                # The index is eventually consistent: a row written since may already be newer.
                if record.modified is not None and hour_start <= record.modified < end:
                    yield record

    return flatten(merged_batches([partial(produce, g) for g in groups if g]))
