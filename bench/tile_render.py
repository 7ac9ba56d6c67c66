"""Render time of the coverage-map pyramid (z 0–13 PNGs + PMTiles) over a simulated city.

Run: `.venv/bin/python -m bench.tile_render [--sizes 15,30,60]` (also part of `make bench`, section
`tiles`, on the 30 km city). For each size (km across), a
deterministic city is generated: every 0.001° grid cell of a square around Berlin is covered with
a probability that falls from 0.95 at the centre to 0 at the edge, plus 300 seeded random-walk
"roads" leading out of it. Then, on in-memory object stores (so this is rendering + encoding +
archive writing, not S3 latency), it measures:

1. the first, full render of the pyramid (every tile at every zoom);
2. an incremental run after one day of new coverage (a seeded walk of 150 new cells);
3. a run with nothing changed (only the archive is rewritten).

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
from openloc.publish.tile_set import run_tiles
from openloc.publish.tiles import SCALE, CoverageGrid
from openloc.store.objects import MemoryObjectStore

CENTER = (52.52, 13.405)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def city_cells(size_km: float, seed: int = 6) -> set[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    half_lat = size_km / 2 / 111.32
    half_lon = half_lat / math.cos(math.radians(CENTER[0]))
    lat = np.arange(round((CENTER[0] - half_lat) * SCALE), round((CENTER[0] + half_lat) * SCALE))
    lon = np.arange(round((CENTER[1] - half_lon) * SCALE), round((CENTER[1] + half_lon) * SCALE))
    lat_grid, lon_grid = np.meshgrid(lat, lon, indexing="ij")
    north = (lat_grid / SCALE - CENTER[0]) / half_lat
    east = (lon_grid / SCALE - CENTER[1]) / half_lon
    distance = np.sqrt(north**2 + east**2)  # 0 at the centre, 1 at the edge
    covered = rng.random(distance.shape) < 0.95 * np.clip(1 - distance, 0, 1) ** 1.5
    cells = set(zip(lat_grid[covered].tolist(), lon_grid[covered].tolist(), strict=True))
    walker = random.Random(seed)
    for _ in range(300):
        cells |= walk(walker, steps=int(size_km * 12))
    return cells


def walk(rng: random.Random, steps: int, start: tuple[float, float] = CENTER) -> set[tuple[int, int]]:
    lat, lon = start
    heading = rng.uniform(0, 2 * math.pi)
    cells: set[tuple[int, int]] = set()
    for _ in range(steps):
        heading += rng.gauss(0, 0.3)
        lat += 0.0008 * math.cos(heading)
        lon += 0.0008 * math.sin(heading) / math.cos(math.radians(lat))
        cells.add((round(lat * SCALE), round(lon * SCALE)))
    return cells


def measure(sizes: tuple[float, ...] = (15.0, 30.0, 60.0)) -> list[dict[str, Any]]:
    """One row per city size and run (full, +1 day, unchanged)."""
    rows: list[dict[str, Any]] = []
    for size in sizes:
        cells = city_cells(size)
        assets, state = MemoryObjectStore(), MemoryObjectStore()
        day = walk(random.Random(99), 150, start=(CENTER[0] + 0.3, CENTER[1] + 0.3)) - cells
        after = CoverageGrid.from_cells(cells | day)
        for name, current in (
            ("full", CoverageGrid.from_cells(cells)),
            ("+1 day", after),
            ("unchanged", after),
        ):
            puts = assets.puts
            start = time.perf_counter()
            result = run_tiles(current, assets, state, NOW)
            seconds = time.perf_counter() - start
            rows.append(
                {
                    "city_km": size,
                    "run": name,
                    "seconds": seconds,
                    "png_puts": assets.puts - puts - 1,
                    **asdict(result),
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| city | grid cells | run | changed cells | tiles rendered | PNG PUTs | archive tiles | archive KiB | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['city_km']:g} km | {r['cells']:,} | {r['run']} | {r['changed_cells']:,} | {r['rendered']:,} | "
        f"{r['png_puts']:,} | {r['archive_tiles']:,} | {r['archive_bytes'] / 1024:,.0f} | {r['seconds']:.2f} |"
        for r in rows
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="15,30,60", help="city sizes in km, comma-separated")
    args = parser.parse_args()
    print("\n".join(table(measure(tuple(float(s) for s in args.sizes.split(","))))))


if __name__ == "__main__":
    main()
