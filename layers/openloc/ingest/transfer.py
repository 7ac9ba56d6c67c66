"""Instance sync: merge a batch of aggregated items from another instance (`POST /v1/transfer`).

Each station item is merged like a batch of observations (`aggregate.station_update.
merge_aggregated`): same transitions (new, change, block, replace, …) and the same weighted
update, with the item's `samples` as its weight and a bbox of ±`range` around its centre, so a
new station keeps the sender's radius. Writes are the aggregator's conditional writes, so a
transfer and the aggregator never lose each other's updates.

Idempotent per batch id: a batch id already merged (kept a week, like SQS message ids) is
skipped, and each station remembers the batch id, so a batch retried after a partial failure
is not merged twice into any station. Cell areas of merged cells are recomputed from their
cells; an area item is stored only for an area with no local cells (and only when newer).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openloc.aggregate.station_update import AggregatedStation, UpdatePolicy, merge_aggregated
from openloc.ingest.station_writes import apply_station_updates, update_areas
from openloc.model.exchange import CellAreaItem, TransferRequest, to_datetime
from openloc.model.records import StationRecord
from openloc.store.processed import ProcessedMessages
from openloc.store.stations import StationStore

METRES_PER_DEGREE = 111_320.0


@dataclass
class TransferResult:
    duplicate: bool = False
    stations_written: int = 0
    areas_written: int = 0
    changes: Counter[str] = field(default_factory=Counter)


def _aggregated(lat: float, lon: float, range_m: int, samples: int, psc: int | None) -> AggregatedStation:
    """The item as a batch: centre, a bbox whose corners are `range_m` from it, weight = samples."""
    half_lat = range_m / math.sqrt(2) / METRES_PER_DEGREE
    half_lon = half_lat / max(math.cos(math.radians(lat)), 0.01)
    return AggregatedStation(
        lat=lat,
        lon=lon,
        weight=float(samples),
        samples=samples,
        psc=psc,
        min_lat=max(lat - half_lat, -90.0),
        max_lat=min(lat + half_lat, 90.0),
        min_lon=max(lon - half_lon, -180.0),
        max_lon=min(lon + half_lon, 180.0),
    )


def _area_record(item: CellAreaItem, now: datetime) -> StationRecord:
    return StationRecord(
        key=item.key,
        lat=item.lat,
        lon=item.lon,
        radius=float(item.range),
        avg_cell_radius=float(item.avgCellRange),
        num_cells=item.numCells,
        modified=to_datetime(item.updated) if item.updated else now,
    )


def merge_transfer(
    request: TransferRequest,
    stations: StationStore,
    processed: ProcessedMessages,
    now: datetime,
    policy: UpdatePolicy | None = None,
) -> TransferResult:
    marker = f"transfer:{request.batch}"
    if processed.seen(marker):
        return TransferResult(duplicate=True)
    grouped: dict[str, Any] = {}
    for cell in request.cells:
        cell_id = cell.cell_id
        assert cell_id is not None  # validated
        grouped[cell_id.key] = _aggregated(cell.lat, cell.lon, cell.range, cell.samples, cell.unit)
    for station in request.stations:
        grouped[station.key] = _aggregated(station.lat, station.lon, station.range, station.samples, None)
    written, changes, touched = apply_station_updates(
        grouped, stations, now, marker, policy or UpdatePolicy(), update=merge_aggregated
    )
    areas_written = update_areas(stations, touched, now)
    candidates = {item.key: item for item in request.areas if item.key not in touched}
    if candidates:
        stored = stations.get_areas(sorted(candidates))
        fresh = []
        for key, item in sorted(candidates.items()):
            if stations.cells_in_area(key):
                continue  # computed from local cells: the sender's version is not taken
            current = stored.get(key)
            record = _area_record(item, now)
            if current is None or current.modified is None or (record.modified or now) > current.modified:
                fresh.append(record)
        if fresh:
            stations.put_areas(fresh)
            areas_written += len(fresh)
    processed.mark(marker)
    return TransferResult(stations_written=written, areas_written=areas_written, changes=changes)
