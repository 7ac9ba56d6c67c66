"""The aggregation pipeline: one SQS message of reports → archive → stations → areas, map, stats.

1. A message already fully aggregated (idempotency marker) is skipped.
2. The raw reports are archived first, so every accepted report is replayable even if a later
   step fails. The object is named after the message id and its first receive time, so a
   redelivery overwrites the same object instead of adding a copy.
3. Observations are grouped by station; all touched stations are read in one BatchGetItem round
   and each changed station is written once, conditionally on the version read. A lost race is
   re-read and re-applied (bounded). Each station remembers the last message ids merged into it,
   so a message redelivered after a partial failure does not merge twice into the same station.
   Stations named by an opt-out (`Report.opted_out`) are withdrawn instead (position and name
   digest cleared, docs/privacy.md). Wi-Fi/Bluetooth stations whose name digest changed get an
   alias item `hash#<kind>#<digest>` → station key (for geolocate requests by hashed identifier);
   the alias of the previous digest is deleted.
4. Cell areas of changed cells are recomputed from all their cells; the coverage grid is touched.
5. The message is marked processed; daily counters are added after that (a crash in between
   under-counts a statistic rather than double-counting it).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from openloc.aggregate.cell_area import area_from_cells
from openloc.aggregate.grouping import group_by_station
from openloc.aggregate.report import Report, archive_record
from openloc.aggregate.station_update import (
    Change,
    StationUpdate,
    UpdatePolicy,
    opt_out_station,
    update_station,
)
from openloc.data.datamap import grid_cells
from openloc.station_hash import alias_key
from openloc.store.archive import Archive
from openloc.store.coverage import CoverageStore
from openloc.store.processed import ProcessedMessages
from openloc.store.records import StationRecord
from openloc.store.stations import StationStore, area_of

if TYPE_CHECKING:
    from openloc.settings import Settings

_REPORTS = TypeAdapter(list[Report])
MAX_CONFLICT_ROUNDS = 5
RECENT_MESSAGES = 8
_AREA_CHANGES = {Change.NEW, Change.CHANGE, Change.REPLACE, Change.BLOCK}


class PoisonMessage(ValueError):
    """A message body that can never be processed (not the queue's JSON shape)."""


class ConflictError(RuntimeError):
    """Stations kept changing under this aggregator; the message is retried by redelivery."""


def parse_message(body: str) -> list[Report]:
    try:
        payload: Any = json.loads(body)
        return _REPORTS.validate_python(payload["reports"])
    except (ValueError, KeyError, TypeError) as error:
        raise PoisonMessage(str(error)) from error


@dataclass
class PipelineStores:
    stations: StationStore
    archive: Archive
    processed: ProcessedMessages
    coverage: CoverageStore

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineStores:
        """The deployed stores: DynamoDB tables and the S3 archive named by `settings`."""
        from openloc.store.archive import S3Archive
        from openloc.store.aws import client
        from openloc.store.coverage import DynamoCoverageStore
        from openloc.store.processed import DynamoProcessedMessages
        from openloc.store.stations import DynamoStationStore

        return cls(
            stations=DynamoStationStore(settings),
            archive=S3Archive(settings.archive_bucket, client("s3")),
            processed=DynamoProcessedMessages(settings),
            coverage=DynamoCoverageStore(settings),
        )

    @classmethod
    def in_memory(cls) -> PipelineStores:
        """Empty in-process stores (tests, benchmarks, offline tools)."""
        from openloc.store.archive import MemoryArchive
        from openloc.store.coverage import MemoryCoverageStore
        from openloc.store.processed import MemoryProcessedMessages
        from openloc.store.stations import MemoryStationStore

        return cls(MemoryStationStore(), MemoryArchive(), MemoryProcessedMessages(), MemoryCoverageStore())


@dataclass(frozen=True)
class BatchResult:
    reports: int
    observations: int
    stations_written: int
    archive_key: str | None
    changes: Counter[str] = field(default_factory=Counter)
    areas_written: int = 0
    grids_written: int = 0
    duplicate: bool = False


def _with_region(record: StationRecord, change: Change) -> StationRecord:
    """Stations that got a (new) position learn their region from the shipped borders."""
    if record.lat is None or record.lon is None or change not in {Change.NEW, Change.CHANGE, Change.REPLACE}:
        return record
    if record.region is not None and change is not Change.REPLACE:
        return record
    from openloc.geo.regions import region_for_position

    found = region_for_position(record.lat, record.lon)
    return replace(record, region=found.code if found is not None else record.region)


StationUpdater = Callable[[str, StationRecord | None, Any, datetime, UpdatePolicy], StationUpdate]
WriteListener = Callable[[StationRecord | None, StationRecord], None]


@dataclass
class _Aliases:
    """Alias items to write and to delete after the station writes of one message."""

    put: dict[str, str] = field(default_factory=dict)  # alias key → station key
    delete: set[str] = field(default_factory=set)

    def follow(self, before: StationRecord | None, after: StationRecord) -> None:
        kind = after.key.split("#", 1)[0]
        if kind not in ("wifi", "blue"):
            return
        old = before.name_hash if before is not None else None
        if old == after.name_hash:
            return
        if old is not None:
            self.delete.add(alias_key(kind, old))
        if after.name_hash is not None:
            self.put[alias_key(kind, after.name_hash)] = after.key

    def write(self, stations: StationStore) -> None:
        deletes = self.delete - set(self.put)
        if self.put:
            stations.put_stations(StationRecord(key=a, alias_of=k) for a, k in sorted(self.put.items()))
        if deletes:
            stations.delete_stations(sorted(deletes))


def update_or_opt_out(
    key: str, station: StationRecord | None, observations: Any, now: datetime, policy: UpdatePolicy
) -> StationUpdate:
    """`update_station`, or — for `observations` None, an opt-out — the station withdrawn (an
    unknown or already withdrawn station stays as it is: an opt-out creates nothing)."""
    if observations is not None:
        return update_station(key, station, observations, now, policy)
    if station is None or (station.optout_last == now.date().isoformat() and not station.positioned):
        return StationUpdate(Change.OPTED_OUT, None, 0)
    return StationUpdate(Change.OPT_OUT, opt_out_station(station, now), 0)


def apply_station_updates(
    grouped: dict[str, Any],
    stations: StationStore,
    now: datetime,
    message_id: str | None,
    policy: UpdatePolicy,
    update: StationUpdater = update_station,
    on_written: WriteListener | None = None,
) -> tuple[int, Counter[str], set[str]]:
    """Apply `update(key, stored, grouped[key], now, policy)` to every station: one read round,
    one conditional write per changed station, lost races re-read and re-applied (bounded).
    Returns (stations written, changes by kind, cell areas to recompute)."""
    pending = grouped
    written = 0
    changes: Counter[str] = Counter()
    areas: set[str] = set()
    for _round in range(MAX_CONFLICT_ROUNDS):
        if not pending:
            break
        existing = stations.get_stations(sorted(pending))
        conflicts = {}
        for key, observations in pending.items():
            station = existing.get(key)
            if message_id is not None and station is not None and message_id in station.recent_messages:
                changes["already_applied"] += 1
                continue
            result = update(key, station, observations, now, policy)
            if result.record is None:
                changes[result.change] += 1
                continue
            record = _with_region(result.record, result.change)
            if message_id is not None:
                record = replace(
                    record, recent_messages=(*record.recent_messages, message_id)[-RECENT_MESSAGES:]
                )
            if stations.put_station_if(record, station.version if station is not None else None):
                if on_written is not None:
                    on_written(station, record)
                written += 1
                changes[result.change] += 1
                if result.change is Change.NEW:
                    changes[f"new_{key.split('#', 1)[0]}"] += 1  # new_wifi, new_blue, new_cell
                area = area_of(key)
                if area is not None and result.change in _AREA_CHANGES:
                    areas.add(area)
            else:
                conflicts[key] = observations
        pending = conflicts
    if pending:
        raise ConflictError(f"{len(pending)} stations still conflicting after {MAX_CONFLICT_ROUNDS} rounds")
    return written, changes, areas


def update_areas(stations: StationStore, area_keys: set[str], now: datetime) -> int:
    """Recompute each area from all its cells (delete it when none is positioned)."""
    updated, emptied = [], []
    for area_key in sorted(area_keys):
        area = area_from_cells(area_key, stations.cells_in_area(area_key), now)
        if area is None:
            emptied.append(area_key)
        else:
            updated.append(area)
    if updated:
        stations.put_areas(updated)
    if emptied:
        stations.delete_areas(emptied)
    return len(updated) + len(emptied)


def process_reports(
    reports: list[Report],
    stores: PipelineStores,
    now: datetime,
    message_id: str | None = None,
    received: datetime | None = None,
    policy: UpdatePolicy | None = None,
    archive: bool = True,
) -> BatchResult:
    """Aggregate one message's reports (see the module docstring for the steps)."""
    if message_id is not None and stores.processed.seen(message_id):
        return BatchResult(len(reports), 0, 0, None, duplicate=True)
    key = (
        stores.archive.put([archive_record(r) for r in reports], received or now, message_id)
        if archive
        else None
    )
    opted_out = frozenset(k for r in reports for k in r.opted_out)
    grouped = {k: v for k, v in group_by_station(reports).items() if k not in opted_out}
    aliases = _Aliases()
    written, changes, areas = apply_station_updates(
        {**grouped, **dict.fromkeys(opted_out)},
        stores.stations,
        now,
        message_id,
        policy or UpdatePolicy(),
        update=update_or_opt_out,
        on_written=aliases.follow,
    )
    aliases.write(stores.stations)
    areas_written = update_areas(stores.stations, areas, now)
    grids_written = stores.coverage.touch_grids(
        grid_cells((r.latitude, r.longitude) for r in reports), now.date().isoformat()
    )
    if message_id is not None:
        stores.processed.mark(message_id)
    observations = sum(len(o) for o in grouped.values())
    counters = {"reports": len(reports), "observations": observations}
    for change_key, count in changes.items():
        counters[f"station_{change_key}" if isinstance(change_key, Change) else change_key] = count
    stores.coverage.add_stats(counters, now.date().isoformat())
    return BatchResult(
        reports=len(reports),
        observations=observations,
        stations_written=written,
        archive_key=key,
        changes=changes,
        areas_written=areas_written,
        grids_written=grids_written,
    )
