"""The coverage map's grid: every report position marks a ~100 m cell (Ichnaea's datamap).

Cells are 0.001° × 0.001° (`round(lat * 1000)`, `round(lon * 1000)`), sharded in four by
latitude 36° and longitude 5° so each shard holds a similar share of the world's land.
"""

from __future__ import annotations

from collections.abc import Iterable

SCALE = 1000


def grid_cell(lat: float, lon: float) -> tuple[str, str]:
    """(shard, grid) of a position: shard `ne`/`nw`/`se`/`sw`, grid `"<lat*1000>,<lon*1000>"`."""
    lat_i, lon_i = round(lat * SCALE), round(lon * SCALE)
    shard = ("n" if lat_i >= 36 * SCALE else "s") + ("e" if lon_i >= 5 * SCALE else "w")
    return shard, f"{lat_i},{lon_i}"


def grid_cells(positions: Iterable[tuple[float, float]]) -> set[tuple[str, str]]:
    return {grid_cell(lat, lon) for lat, lon in positions}
