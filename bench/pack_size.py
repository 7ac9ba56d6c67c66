"""Sizes of the public station dumps and offline packs per million stations, build speed and
offline lookup latency.

Run: `.venv/bin/python bench/pack_size.py [--wifi N] [--blue N] [--cells N]`. It builds a
deterministic country-sized population of published stations (positions spread over Germany's
bounding box, sample counts from a long-tailed distribution, one cell per ~60 Wi-Fi networks and
one cell area per 40 cells, as in MLS's data; Wi-Fi networks and beacons with a reach and a
footprint of up to 16 bins, so their rows carry the loudest level and the footprint's shape),
writes the dumps and the country pack with the production code
(`openloc.publish.dumps.build_publications`), and prints a Markdown table of bytes per million
stations (raw SQLite, gzipped SQLite, gzipped CSV). Then it times
`openloc.locate.service.locate` on the uncompressed pack for scans of 8 Wi-Fi networks + 1 cell.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openloc.aggregate.footprint import MAX_BINS
from openloc.locate.query import CellSignal, LocateQuery, MacSignal
from openloc.locate.service import locate
from openloc.model.identifiers import station_digest
from openloc.model.keys import CellId
from openloc.model.kinds import Radio, StationKind
from openloc.model.records import Footprint, StationRecord
from openloc.publish.dumps import build_publications
from openloc.publish.pack import PackReader
from openloc.publish.policy import PublishPolicy

NOW = datetime(2026, 11, 23, tzinfo=UTC)
BOX = (47.3, 55.0, 5.9, 15.0)  # Germany's bounding box (lat, lat, lon, lon)


def population(
    wifis: int, blues: int, cells: int, seed: int = 1
) -> tuple[list[StationRecord], list[StationRecord]]:
    rng = random.Random(seed)
    created = NOW - timedelta(days=90)

    def record(key: str, name_hash: str | None, radius: float) -> StationRecord:
        # Wi-Fi/Bluetooth: a reach and a footprint like an aggregated station's, so that the
        # published rows carry realistic reach, loudest level and footprint shape (their bytes)
        mac = name_hash is not None
        bins = tuple(
            (round(rng.uniform(-radius, radius)), round(rng.uniform(-radius, radius)), rng.randint(1, 30),
             round(rng.uniform(-95, -50), 1))
            for _ in range(rng.randint(1, MAX_BINS) if mac else 0)
        )  # fmt: skip
        return StationRecord(
            key=key, lat=rng.uniform(BOX[0], BOX[1]), lon=rng.uniform(BOX[2], BOX[3]), radius=radius,
            region="DE", samples=int(rng.paretovariate(1.2) * 10), created=created,
            last_seen=NOW.date().isoformat(), name_hash=name_hash,
            reach=round(rng.uniform(0.3, 0.8) * radius, 1) if mac else 0.0,
            footprint=Footprint(bins) if mac else None,
        )  # fmt: skip

    stations = [
        record(
            f"wifi#00{i:010x}", station_digest(StationKind.WIFI, f"00{i:010x}", f"n{i}"), rng.uniform(20, 150)
        )
        for i in range(wifis)
    ]
    stations += [
        record(
            f"blue#00{i:010x}", station_digest(StationKind.BLUE, f"00{i:010x}", f"b{i}"), rng.uniform(5, 40)
        )
        for i in range(blues)
    ]
    stations += [
        record(f"cell#lte#262#01#{1 + i // 40}#{1000 + i}", None, rng.uniform(500, 5000))
        for i in range(cells)
    ]
    areas = [
        StationRecord(
            key=f"area#lte#262#01#{1 + a}",
            lat=rng.uniform(BOX[0], BOX[1]),
            lon=rng.uniform(BOX[2], BOX[3]),
            radius=rng.uniform(5_000, 30_000),
            region="DE",
            num_cells=40,
        )
        for a in range(cells // 40 + 1)
    ]
    return stations, areas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wifi", type=int, default=200_000)
    parser.add_argument("--blue", type=int, default=20_000)
    parser.add_argument("--cells", type=int, default=4_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    args = parser.parse_args()
    stations, areas = population(args.wifi, args.blue, args.cells)
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        built = build_publications(stations, areas, Path(work), NOW, PublishPolicy(1, 0))
        seconds = time.perf_counter() - start
        published = args.wifi + args.blue + args.cells
        print(f"built {len(built)} files from {published:,} stations in {seconds:.1f} s "
              f"({published / seconds:,.0f} stations/s, all files: world + DE + mcc-262)\n")  # fmt: skip

        print(
            "| file | rows | bytes gz | bytes per million rows (gz) | bytes per million rows (SQLite raw) |"
        )
        print("|---|---|---|---|---|")
        import gzip

        for file in sorted(built, key=lambda f: f.key):
            if file.region == "world":
                continue
            size = file.path.stat().st_size
            raw = len(gzip.decompress(file.path.read_bytes())) if file.format == "sqlite.gz" else None
            per_million = 1e6 / max(file.rows, 1)
            raw_text = f"{raw * per_million / 1e6:,.1f} MB" if raw is not None else "–"
            print(f"| {Path(file.key).name} ({file.kind}) | {file.rows:,} | {size / 1e6:,.1f} MB "
                  f"| {size * per_million / 1e6:,.1f} MB | {raw_text} |")  # fmt: skip
        pack_gz = next(f for f in built if f.kind == "offline-pack" and f.region == "DE")
        plain = Path(work) / "pack.sqlite"
        plain.write_bytes(gzip.decompress(pack_gz.path.read_bytes()))
        reader = PackReader(plain)
        rng = random.Random(3)
        timings = []
        for _ in range(args.lookups):
            picks = [rng.randrange(args.wifi) for _ in range(8)]
            ids = [station_digest(StationKind.WIFI, f"00{i:010x}", f"n{i}") for i in picks]
            cell = CellId(Radio.LTE, 262, "01", 1, 1000)
            query = LocateQuery(
                wifis=tuple(MacSignal(i, -70) for i in ids), cells=(CellSignal((cell,), -90),), ipf=False
            )
            begin = time.perf_counter()
            locate(reader, query)
            timings.append((time.perf_counter() - begin) * 1e6)
        timings.sort()
        print(f"\noffline locate (8 Wi-Fi + 1 cell, pack of {pack_gz.rows:,} rows): "
              f"p50 {statistics.median(timings):.0f} µs, p99 {timings[int(len(timings) * 0.99)]:.0f} µs")  # fmt: skip


if __name__ == "__main__":
    main()
