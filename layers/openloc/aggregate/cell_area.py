"""Cell areas (Ichnaea data/area.py): a location area recomputed from scratch from its cells.

centre = unweighted mean of the positioned cells' centres; bbox over the cells' corners (a missing
corner falls back to the cell centre, and centres are always inside); radius = largest distance
from the centre to a bbox corner; avg_cell_radius = mean cell radius; region = the cells' majority
region (ties: alphabetically first). Pure and order-independent (exactly rounded sums).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from openloc.geo.distance import bbox_radius_m
from openloc.model.records import StationRecord


@dataclass(frozen=True, slots=True)
class _Box:
    lat: float
    lon: float
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


def _corners(cell: StationRecord) -> _Box | None:
    """A positioned cell's centre and bbox, missing corners falling back to (and always
    including) the centre; None for a cell without position or held back (not yet corroborated)."""
    if cell.lat is None or cell.lon is None or cell.held:
        return None
    lat, lon = cell.lat, cell.lon
    return _Box(
        lat=lat,
        lon=lon,
        min_lat=min(lat, cell.min_lat if cell.min_lat is not None else lat),
        max_lat=max(lat, cell.max_lat if cell.max_lat is not None else lat),
        min_lon=min(lon, cell.min_lon if cell.min_lon is not None else lon),
        max_lon=max(lon, cell.max_lon if cell.max_lon is not None else lon),
    )


def _majority_region(cells: Sequence[StationRecord]) -> str | None:
    counts = Counter(cell.region for cell in cells if cell.region)
    if not counts:
        return None
    return min(counts, key=lambda region: (-counts[region], region))


def area_from_cells(area_key: str, cells: Sequence[StationRecord], now: datetime) -> StationRecord | None:
    """The area `area_key` computed from `cells`, or None when no cell is positioned (delete it).

    `created` is `now` and `version` 0: a caller updating a stored area carries over its
    `created` and sets `version` to the stored version + 1.
    """
    corners = [_corners(cell) for cell in cells]
    positioned = [(cell, box) for cell, box in zip(cells, corners, strict=True) if box is not None]
    if not positioned:
        return None
    boxes = [box for _, box in positioned]
    min_lat = min(box.min_lat for box in boxes)
    max_lat = max(box.max_lat for box in boxes)
    min_lon = min(box.min_lon for box in boxes)
    max_lon = max(box.max_lon for box in boxes)
    # Exactly rounded means, clamped against a last-ulp excursion outside the box.
    lat = min(max(math.fsum(box.lat for box in boxes) / len(boxes), min_lat), max_lat)
    lon = min(max(math.fsum(box.lon for box in boxes) / len(boxes), min_lon), max_lon)
    positioned_cells = [cell for cell, _ in positioned]
    seen = [cell.last_seen for cell in positioned_cells if cell.last_seen]
    return StationRecord(
        key=area_key,
        lat=lat,
        lon=lon,
        min_lat=min_lat,
        max_lat=max_lat,
        min_lon=min_lon,
        max_lon=max_lon,
        radius=round(bbox_radius_m(lat, lon, min_lat, min_lon, max_lat, max_lon)),
        region=_majority_region(positioned_cells),
        created=now,
        modified=now,
        last_seen=max(seen) if seen else None,
        num_cells=len(positioned_cells),
        avg_cell_radius=round(math.fsum(cell.radius for cell in positioned_cells) / len(positioned_cells)),
    )
