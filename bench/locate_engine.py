"""Latency of the pure locate engine (`openloc.locate.searcher.search`), no I/O.

Run: `.venv/bin/python bench/locate_engine.py [--iterations N]`. For each query shape (number of
Wi-Fi networks seen, number of cells) it builds a deterministic neighbourhood, runs the search
N times and prints p50/p99 in microseconds as a Markdown table. Shapes with an outlier access
point (moved far away) exercise the clustering's slow path.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time

from openloc.locate.query import CellSignal, KnownStation, LocateQuery, MacSignal
from openloc.locate.searcher import search
from openloc.model.keys import CellId
from openloc.model.kinds import Radio

CENTER = (48.1374, 11.5755)
SHAPES = [(2, 0, 0), (10, 0, 0), (10, 3, 1), (50, 0, 0), (50, 10, 0), (50, 10, 3)]


def _point(rng: random.Random, radius_m: float) -> tuple[float, float]:
    angle = rng.uniform(0, 2 * math.pi)
    distance = radius_m * math.sqrt(rng.random())
    return (
        CENTER[0] + distance * math.cos(angle) / 111_320,
        CENTER[1] + distance * math.sin(angle) / (111_320 * math.cos(math.radians(CENTER[0]))),
    )


def scenario(
    wifis: int, cells: int, outliers: int, seed: int = 7
) -> tuple[LocateQuery, dict[str, KnownStation]]:
    rng = random.Random(seed)
    known: dict[str, KnownStation] = {}
    seen = []
    for i in range(wifis):
        mac = f"0012{i:08x}"
        lat, lon = _point(rng, 150) if i >= outliers else _point(rng, 50_000)
        known[f"wifi#{mac}"] = KnownStation(
            f"wifi#{mac}", lat, lon, rng.uniform(20, 120), rng.randint(1, 500)
        )
        seen.append(MacSignal(mac, rng.randint(-95, -40), rng.randint(0, 5000)))
    cell_signals = []
    for i in range(cells):
        cell = CellId(Radio.LTE, 262, "01", 4711, 1000 + i)
        lat, lon = _point(rng, 1500)
        known[cell.key] = KnownStation(cell.key, lat, lon, 3000.0, 200)
        cell_signals.append(CellSignal((cell,), rng.randint(-120, -70), None))
    return LocateQuery(wifis=tuple(seen), cells=tuple(cell_signals)), known


def timings(wifis: int, cells: int, outliers: int, iterations: int) -> list[float]:
    """Sorted search durations in µs."""
    query, known = scenario(wifis, cells, outliers)
    samples = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        search(query, known, {})
        samples.append((time.perf_counter_ns() - start) / 1000)
    return sorted(samples)


def measure(wifis: int, cells: int, outliers: int, iterations: int) -> tuple[float, float]:
    samples = timings(wifis, cells, outliers, iterations)
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    print("| Wi-Fi | cells | outliers | p50 µs | p99 µs |\n|---|---|---|---|---|")
    for wifis, cells, outliers in SHAPES:
        p50, p99 = measure(wifis, cells, outliers, args.iterations)
        print(f"| {wifis} | {cells} | {outliers} | {p50:.0f} | {p99:.0f} |")


if __name__ == "__main__":
    main()
