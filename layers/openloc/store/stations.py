"""Station and cell-area access: the `StationStore` interface, DynamoDB and in-memory implementations.

Station writes are conditional on the `version` the writer read (optimistic concurrency): a
writer that lost a race gets `False` back and re-reads, so concurrent aggregators lose no update.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, Protocol

from openloc.model.keys import area_of
from openloc.model.kinds import StationKind
from openloc.model.records import (
    Challenge,
    Footprint,
    StationRecord,
    evidence_from_json,
    evidence_to_json,
)
from openloc.store.binding import BoundModels
from openloc.store.change_feed import changed_hour

if TYPE_CHECKING:
    from openloc.settings import Settings
    from openloc.store.pynamodb_tables import StationModel

_STATION_FIELDS = [
    f.name for f in fields(StationRecord) if f.name not in {"key", "num_cells", "avg_cell_radius"}
]
_AREA_FIELDS = ["lat", "lon", "radius", "avg_cell_radius", "num_cells", "region", "modified"]
# Station rows, not the `hash#…` alias items that share the table.
STATION_PREFIXES = tuple(f"{kind}#" for kind in StationKind)
_INT_FIELDS = {"samples", "block_count", "version", "num_cells", "psc", "name_votes"}
# Stored as compact JSON strings (small, fixed-size state; see model.records).
_JSON_FIELDS: dict[str, tuple[Callable[[Any], str], Callable[[str], Any]]] = {
    "challenge": (Challenge.to_json, Challenge.from_json),
    "optout_evidence": (evidence_to_json, evidence_from_json),
    "footprint": (Footprint.to_text, Footprint.from_text),
}


class StationStore(Protocol):
    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]: ...

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]: ...

    def put_stations(self, records: Iterable[StationRecord]) -> None: ...

    def put_station_if(self, record: StationRecord, expected_version: int | None) -> bool:
        """Write `record` if the stored version is still `expected_version` (None: absent)."""
        ...

    def cells_in_area(self, area_key: str) -> list[StationRecord]: ...

    def delete_stations(self, keys: Iterable[str]) -> None:
        """Unconditional delete (stale `hash#…` alias items)."""
        ...

    def put_areas(self, records: Iterable[StationRecord]) -> None: ...

    def delete_areas(self, keys: Iterable[str]) -> None: ...

    def scan_stations(
        self, prefixes: tuple[str, ...] = STATION_PREFIXES, segment: int = 0, total_segments: int = 1
    ) -> Iterator[StationRecord]:
        """Every station whose key starts with one of `prefixes` (publishing jobs only: a full
        read of the table, never on a request path); with `total_segments` > 1 only the parallel
        Scan segment `segment` (segments partition the table)."""
        ...

    def scan_areas(self, segment: int = 0, total_segments: int = 1) -> Iterator[StationRecord]:
        """Every cell area (publishing jobs only), or one parallel Scan segment of them."""
        ...

    def approximate_counts(self) -> tuple[int, int]:
        """About how many items the stations and the cell areas tables hold (DynamoDB updates
        item counts every ~6 hours): what sharded jobs size their shards by."""
        ...


def _from_item(key: str, item: Any, names: Iterable[str]) -> StationRecord:
    values: dict[str, Any] = {}
    for name in names:
        value = getattr(item, name, None)
        if value is None:
            continue
        if name in _INT_FIELDS:
            value = int(value)
        elif name == "recent_messages":
            value = tuple(value)
        elif name in _JSON_FIELDS:
            value = _JSON_FIELDS[name][1](value)
        values[name] = value
    return StationRecord(key=key, **values)


def _station_attributes(record: StationRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _STATION_FIELDS}
    values["recent_messages"] = list(record.recent_messages) or None
    values["held"] = record.held or None  # absent unless held: no attribute on ordinary rows
    for name, (encode, _decode) in _JSON_FIELDS.items():
        value = getattr(record, name)
        values[name] = encode(value) if value is not None else None
    values["area"] = area_of(record.key)
    values["changed_hour"] = changed_hour(record.key, record.modified)
    return values


def station_from_item(item: StationModel) -> StationRecord:
    return _from_item(item.pk, item, _STATION_FIELDS)


class DynamoStationStore(BoundModels):
    """Stations and areas in DynamoDB; reads are one BatchGetItem round per 100 keys."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.write_requests = 0  # for the write-cost benchmark (each item < 1 KB = 1 WCU)

    def bulk_load_mode(self) -> None:
        """For bulk loads (`openloc import`): a throttled BatchWriteItem retries unprocessed items
        with backoff (8 attempts, 30 s reads) where the API functions retry once and answer 503."""
        for model in (self.models.StationModel, self.models.CellAreaModel):
            model.Meta.max_retry_attempts = 8
            model.Meta.read_timeout_seconds = 30
            model._connection = None

    def warm(self) -> None:
        """Import, bind and connect ahead of the first request (SnapStart before-snapshot hook)."""
        self.models.StationModel._get_connection().connection.client  # noqa: B018

    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        if not keys:
            return {}
        return {
            item.pk: _from_item(item.pk, item, _STATION_FIELDS)
            for item in self.models.StationModel.batch_get(list(keys))
        }

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        if not keys:
            return {}
        return {
            item.pk: _from_item(item.pk, item, _AREA_FIELDS)
            for item in self.models.CellAreaModel.batch_get(list(keys))
        }

    def put_stations(self, records: Iterable[StationRecord]) -> None:
        """Unconditional batch write (seeding and imports; the aggregator uses `put_station_if`)."""
        with self.models.StationModel.batch_write() as batch:
            for record in records:
                self.write_requests += 1
                batch.save(self.models.StationModel(record.key, **_station_attributes(record)))

    def put_station_if(self, record: StationRecord, expected_version: int | None) -> bool:
        from pynamodb.exceptions import PutError

        model = self.models.StationModel
        condition = (
            model.pk.does_not_exist() if expected_version is None else model.version == expected_version
        )
        self.write_requests += 1
        try:
            model(record.key, **_station_attributes(record)).save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def cells_in_area(self, area_key: str) -> list[StationRecord]:
        return [station_from_item(item) for item in self.models.StationModel.by_area.query(area_key)]

    def delete_stations(self, keys: Iterable[str]) -> None:
        with self.models.StationModel.batch_write() as batch:
            for key in keys:
                self.write_requests += 1
                batch.delete(self.models.StationModel(key))

    def put_areas(self, records: Iterable[StationRecord]) -> None:
        with self.models.CellAreaModel.batch_write() as batch:
            for record in records:
                self.write_requests += 1
                batch.save(
                    self.models.CellAreaModel(record.key, **{n: getattr(record, n) for n in _AREA_FIELDS})
                )

    def delete_areas(self, keys: Iterable[str]) -> None:
        with self.models.CellAreaModel.batch_write() as batch:
            for key in keys:
                self.write_requests += 1
                batch.delete(self.models.CellAreaModel(key))

    def scan_stations(
        self, prefixes: tuple[str, ...] = STATION_PREFIXES, segment: int = 0, total_segments: int = 1
    ) -> Iterator[StationRecord]:
        """A paginated Scan; the key filter runs server-side but every item read is billed."""
        model = self.models.StationModel
        condition = None
        for prefix in prefixes:
            clause = model.pk.startswith(prefix)
            condition = clause if condition is None else condition | clause
        for item in model.scan(condition, **_segment(segment, total_segments)):
            yield station_from_item(item)

    def scan_areas(self, segment: int = 0, total_segments: int = 1) -> Iterator[StationRecord]:
        for item in self.models.CellAreaModel.scan(**_segment(segment, total_segments)):
            yield _from_item(item.pk, item, _AREA_FIELDS)

    def approximate_counts(self) -> tuple[int, int]:
        stations = self.models.StationModel.describe_table()
        areas = self.models.CellAreaModel.describe_table()
        return int(stations.get("ItemCount", 0)), int(areas.get("ItemCount", 0))


def _segment(segment: int, total_segments: int) -> dict[str, int]:
    return {"segment": segment, "total_segments": total_segments} if total_segments > 1 else {}


def in_segment(key: str, segment: int, total_segments: int) -> bool:
    """Whether an in-memory store's key falls in a Scan segment (a stable hash of the key)."""
    return total_segments <= 1 or zlib.crc32(key.encode()) % total_segments == segment


class MemoryStationStore:
    """In-memory twin for unit tests and benchmarks (same conditional-write semantics)."""

    def __init__(self) -> None:
        self.stations: dict[str, StationRecord] = {}
        self.areas: dict[str, StationRecord] = {}
        self.batch_gets = 0
        self.write_requests = 0
        self._cells_by_area: dict[str, set[str]] = {}  # the `by_area` index

    def _store(self, record: StationRecord) -> None:
        self.stations[record.key] = replace(record)
        area = area_of(record.key)
        if area is not None:
            self._cells_by_area.setdefault(area, set()).add(record.key)

    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        self.batch_gets += 1
        return {k: replace(self.stations[k]) for k in keys if k in self.stations}

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        self.batch_gets += 1
        return {k: replace(self.areas[k]) for k in keys if k in self.areas}

    def put_stations(self, records: Iterable[StationRecord]) -> None:
        for record in records:
            self.write_requests += 1
            self._store(record)

    def put_station_if(self, record: StationRecord, expected_version: int | None) -> bool:
        self.write_requests += 1
        current = self.stations.get(record.key)
        if (current.version if current is not None else None) != expected_version:
            return False
        self._store(record)
        return True

    def cells_in_area(self, area_key: str) -> list[StationRecord]:
        keys = sorted(self._cells_by_area.get(area_key, ()))
        return [replace(self.stations[k]) for k in keys if k in self.stations]

    def delete_stations(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.write_requests += 1
            self.stations.pop(key, None)

    def put_areas(self, records: Iterable[StationRecord]) -> None:
        for record in records:
            self.write_requests += 1
            self.areas[record.key] = replace(record)

    def delete_areas(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.write_requests += 1
            self.areas.pop(key, None)

    def scan_stations(
        self, prefixes: tuple[str, ...] = STATION_PREFIXES, segment: int = 0, total_segments: int = 1
    ) -> Iterator[StationRecord]:
        for key in sorted(self.stations):
            if key.startswith(prefixes) and in_segment(key, segment, total_segments):
                yield replace(self.stations[key])

    def scan_areas(self, segment: int = 0, total_segments: int = 1) -> Iterator[StationRecord]:
        for key in sorted(self.areas):
            if in_segment(key, segment, total_segments):
                yield replace(self.areas[key])

    def approximate_counts(self) -> tuple[int, int]:
        return len(self.stations), len(self.areas)
