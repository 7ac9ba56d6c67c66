"""Writing stations: the one place where station and cell-area rows change.

Every writer — the aggregator (`ingest.pipeline`), instance sync (`ingest.transfer`) and replay —
goes through `apply_station_updates`: all touched stations are read in one BatchGetItem round,
each changed station is written once, conditionally on the version read, and a lost race is
re-read and re-applied (bounded). Each station remembers the last message (or batch) ids merged
into it, so a redelivered message is not merged twice into the same station. Stations that got a
new position learn their region from the shipped borders. Cell areas of changed cells are then
recomputed from all of their cells (`update_areas`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from openloc.aggregate.cell_area import area_from_cells
from openloc.aggregate.station_update import (
    Change,
    OptOutSighting,
    StationObservation,
    StationUpdate,
    UpdatePolicy,
    opt_out,
    update_station,
)
from openloc.ingest.admission import Admission
from openloc.model.keys import alias_key, area_of, key_kind
from openloc.model.kinds import MAC_KINDS
from openloc.model.records import StationRecord
from openloc.store.stations import StationStore

MAX_CONFLICT_ROUNDS = 5
RECENT_MESSAGES = 8
AREA_CHUNK = 500
_AREA_CHANGES = {Change.NEW, Change.CHANGE, Change.REPLACE, Change.BLOCK}


class ConflictError(RuntimeError):
    """Stations kept changing under this aggregator; the message is retried by redelivery."""


def _with_region(record: StationRecord, change: Change) -> StationRecord:
    """Stations that got a (new) position learn their region from the shipped borders."""
    if record.lat is None or record.lon is None or change not in {Change.NEW, Change.CHANGE, Change.REPLACE}:
        return record
    if record.region is not None and change is not Change.REPLACE:
        return record
    from openloc.geo.regions import region_for_position  # deferred: loads the border data

    found = region_for_position(record.lat, record.lon)
    return replace(record, region=found.code if found is not None else record.region)


StationUpdater = Callable[[str, StationRecord | None, Any, datetime, UpdatePolicy], StationUpdate]
Admit = Callable[[dict[str, Any]], dict[str, Admission]]


def _first_source(observations: Sequence[StationObservation]) -> str | None:
    return next((o.source for o in observations if o.source is not None), None)


WriteListener = Callable[[StationRecord | None, StationRecord], None]


@dataclass
class Aliases:
    """Alias items to write and to delete after the station writes of one message."""

    put: dict[str, str] = field(default_factory=dict)  # alias key → station key
    delete: set[str] = field(default_factory=set)

    def follow(self, before: StationRecord | None, after: StationRecord) -> None:
        kind = key_kind(after.key)
        if kind is None or kind not in MAC_KINDS:
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


@dataclass(frozen=True)
class OptOuts:
    """The opt-out sightings of one station in a message (instead of observations)."""

    sightings: tuple[OptOutSighting, ...]


def update_or_opt_out(
    key: str, station: StationRecord | None, observations: Any, now: datetime, policy: UpdatePolicy
) -> StationUpdate:
    """`update_station` for observations, `opt_out` for an `OptOuts`."""
    if isinstance(observations, OptOuts):
        return opt_out(key, station, observations.sightings, now, policy)
    return update_station(key, station, observations, now, policy)


def apply_station_updates(
    grouped: dict[str, Any],
    stations: StationStore,
    now: datetime,
    message_id: str | None,
    policy: UpdatePolicy,
    update: StationUpdater = update_station,
    on_written: WriteListener | None = None,
    admit: Admit | None = None,
) -> tuple[int, Counter[str], set[str]]:
    """Apply `update(key, stored, grouped[key], now, policy)` to every station: one read round,
    one conditional write per changed station, lost races re-read and re-applied (bounded).
    `admit` decides, after the first read, which stations without a row may be created, and
    which of those only as held (`ingest.admission`). Returns (stations written, changes by
    kind, cell areas to recompute)."""
    pending = grouped
    written = 0
    changes: Counter[str] = Counter()
    areas: set[str] = set()
    admitted: dict[str, Admission] = {}
    for round_number in range(MAX_CONFLICT_ROUNDS):
        if not pending:
            break
        existing = stations.get_stations(sorted(pending))
        if admit is not None and round_number == 0:
            admitted = admit(
                {k: v for k, v in pending.items() if k not in existing and not isinstance(v, OptOuts)}
            )
        conflicts = {}
        for key, observations in pending.items():
            station = existing.get(key)
            admission = admitted.get(key) if station is None else None
            if admission is Admission.DROPPED:
                changes["new_dropped"] += 1
                continue
            if message_id is not None and station is not None and message_id in station.recent_messages:
                changes["already_applied"] += 1
                continue
            result = update(key, station, observations, now, policy)
            if result.record is None:
                changes[result.change] += 1
                continue
            record = _with_region(result.record, result.change)
            if admission is Admission.HELD and result.change is Change.NEW:
                record = replace(record, held=True, first_source=_first_source(observations))
                changes["new_held"] += 1
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
                    changes[f"new_{key_kind(key)}"] += 1  # new_wifi, new_blue, new_cell
                area = area_of(key)
                if area is not None and result.change in _AREA_CHANGES:
                    areas.add(area)
            else:
                conflicts[key] = observations
        pending = conflicts
    if pending:
        raise ConflictError(f"{len(pending)} stations still conflicting after {MAX_CONFLICT_ROUNDS} rounds")
    return written, changes, areas


def recompute_areas(
    stations: StationStore, area_keys: Iterable[str], now: datetime, pool: Executor | None = None
) -> tuple[int, int]:
    """Recompute each area from all of its cells, written in chunks of `AREA_CHUNK`; delete the
    areas left without a positioned cell. `pool` reads the areas' cells in parallel (bulk
    imports). Returns (areas written, areas deleted)."""
    keys = sorted(set(area_keys))

    def compute(key: str) -> tuple[str, StationRecord | None]:
        return key, area_from_cells(key, stations.cells_in_area(key), now)

    results = pool.map(compute, keys) if pool is not None else map(compute, keys)
    updated: list[StationRecord] = []
    deleted: list[str] = []
    written = 0
    for key, area in results:
        if area is None:
            deleted.append(key)
            continue
        updated.append(area)
        if len(updated) >= AREA_CHUNK:
            stations.put_areas(updated)
            written += len(updated)
            updated = []
    if updated:
        stations.put_areas(updated)
        written += len(updated)
    if deleted:
        stations.delete_areas(deleted)
    return written, len(deleted)


def update_areas(stations: StationStore, area_keys: Iterable[str], now: datetime) -> int:
    """`recompute_areas` for the areas one message or batch touched; areas written or deleted."""
    return sum(recompute_areas(stations, area_keys, now))
