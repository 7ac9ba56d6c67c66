"""Scale test of the sharded jobs: millions of cells and Wi-Fi stations through the real shard
handlers and the local executor, on table stand-ins, with the buckets on disk.

    .venv/bin/python -m bench.shard_scale                       # 5 M cells, 20 M Wi-Fi, 1 M grid cells
    .venv/bin/python -m bench.shard_scale --cells 200000 --wifi 400000 --grid-cities 1   # a quick look

What runs is production code end to end: `openloc.jobs.executor.run_local` sends the phase events
of `cell_export_full.SHARDED`, `station_publish.SHARDED`, `tiles.SHARDED` and `bulk_import.SHARDED`
to `openloc.jobs.sharding.handle`, with the default shard sizes of `openloc.settings` (one shard
= what one Lambda invocation does). The stand-ins: `GeneratedCells` (bench/open_data.py: DynamoDB
items decoded by the real `record_from_raw`), `GeneratedStations` below (Wi-Fi/Bluetooth records
made on the fly per Scan segment, in eight cities of four countries, all publishable), a
`MemoryCoverageStore` holding copies of bench/tile_render.py's 60 km city, an in-memory station
store for the import; the buckets are `bench.disk_store.DiskObjectStore` folders, so objects never
sit in memory.

Shards run one at a time (threads=1), so each shard's wall time and memory are its own: memory is
the process's resident-set high-water mark during the shard (`/proc/self/clear_refs` resets it),
minus the resident set before it. A flat memory profile is the same Δ for every shard however
many shards the job has. The results go to `bench/results/shard-scale-<time>.json`, and the
projections of docs/benchmarks.md ("Sharded jobs at scale") are computed from them
(`projections`).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openloc.jobs import bulk_import, cell_export_full, station_publish, tiles
from openloc.jobs.executor import run_local
from openloc.jobs.sharding import Json, ShardedJob, handle
from openloc.jobs.stores import JobStores
from openloc.model.records import StationRecord
from openloc.settings import Settings
from openloc.store.cell_source import MemoryCellSource
from openloc.store.coverage import MemoryCoverageStore
from openloc.store.stations import MemoryStationStore

from bench.disk_store import DiskObjectStore
from bench.open_data import GeneratedCells, synthetic_cell
from infra.costs import PRICES_AS_OF, Prices

NOW = datetime(2026, 11, 23, 2, 7, tzinfo=UTC)
WORLD_GRID_CELLS = 100e6  # assumed datamap of a world-scale instance (docs/benchmarks.md)
TABLE_WRITES_PER_SECOND = 40_000  # DynamoDB's default per-table throughput quota (on-demand)
RESULTS = Path(__file__).resolve().parent / "results"
# (region, lat, lon, share of the stations) — a dense country split into parts, a few others.
CITIES = (
    ("DE", 52.52, 13.40, 0.18), ("DE", 48.14, 11.58, 0.12), ("DE", 53.55, 9.99, 0.10),
    ("FR", 48.86, 2.35, 0.20), ("FR", 45.76, 4.84, 0.08), ("GB", 51.51, -0.13, 0.17),
    ("NL", 52.37, 4.90, 0.10), (None, 47.0, -30.0, 0.05),
)  # fmt: skip


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current VmRSS


class GeneratedStations:
    """A StationStore stand-in: `wifi` Wi-Fi and `blue` Bluetooth stations made on the fly for the
    Scan segment asked for (record i belongs to segment i mod n), every one publishable."""

    def __init__(self, wifi: int, blue: int) -> None:
        self.wifi, self.blue = wifi, blue
        weights = [share for *_, share in CITIES]
        self.cities = random.Random(1).choices(range(len(CITIES)), weights, k=4096)

    def _record(self, i: int) -> StationRecord:
        kind = "wifi" if i < self.wifi else "blue"
        region, lat, lon, _ = CITIES[self.cities[i % 4096]]
        h = (i * 2654435761) % 4294967296
        return StationRecord(
            key=f"{kind}#00{i:010x}",
            lat=lat + ((h % 60001) - 30000) / 100000,
            lon=lon + ((h // 60001 % 80001) - 40000) / 100000,
            radius=float(20 + h % 180),
            region=region,
            samples=10 + h % 500,
            created=NOW - timedelta(days=30 + h % 300),
            last_seen=(NOW - timedelta(days=1)).date().isoformat(),
            name_hash=f"{i:032x}",
        )

    def scan_stations(
        self, prefixes: tuple[str, ...] = (), segment: int = 0, total_segments: int = 1
    ) -> Iterator[StationRecord]:
        for i in range(segment, self.wifi + self.blue, total_segments):
            yield self._record(i)

    def scan_areas(self, segment: int = 0, total_segments: int = 1) -> Iterator[StationRecord]:
        return iter(())

    def approximate_counts(self) -> tuple[int, int]:
        return self.wifi + self.blue, 0

    def _unused(self, *_: Any) -> Any:
        raise NotImplementedError("the scale test only scans")

    get_stations = get_areas = put_stations = put_station_if = cells_in_area = _unused
    delete_stations = put_areas = delete_areas = _unused


class Meter:
    """Times each phase event and the memory high-water mark of each shard."""

    def __init__(self, job: ShardedJob, stores: JobStores) -> None:
        self.job, self.stores = job, stores
        self.shards: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []

    def __call__(self, event: Json) -> Json:
        before = _rss_kib("VmRSS")
        _reset_peak()
        started = time.perf_counter()
        answer = handle(self.job, self.stores, event)
        seconds = time.perf_counter() - started
        row = {
            "stage": self.job.stages[int(event["stage"])].name,
            "phase": event["phase"],
            "seconds": seconds,
            "rss_delta_mib": (_rss_kib("VmHWM") - before) / 1024,
            "rss_peak_mib": _rss_kib("VmHWM") / 1024,
        }
        (self.shards if event["phase"] == "shard" else self.steps).append(row)
        return answer


def run_job(job: ShardedJob, stores: JobStores, job_input: dict[str, Any] | None = None) -> dict[str, Any]:
    meter = Meter(job, stores)
    started = time.perf_counter()
    run = run_local(job, stores.state, meter, {"time": NOW.isoformat(), **(job_input or {})}, threads=1)
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for row in meter.shards:
        by_stage.setdefault(row["stage"], []).append(row)
    return {
        "task": job.task,
        "seconds": time.perf_counter() - started,
        "summary": run.summary,
        "stages": {
            name: {
                "shards": len(rows),
                "max_seconds": max(r["seconds"] for r in rows),
                "mean_seconds": sum(r["seconds"] for r in rows) / len(rows),
                "max_rss_delta_mib": max(r["rss_delta_mib"] for r in rows),
                "rss_delta_mib": [round(r["rss_delta_mib"], 1) for r in rows],
            }
            for name, rows in by_stage.items()
        },
        "steps": meter.steps,
    }


def _stores(root: Path, **parts: Any) -> JobStores:
    stores = JobStores.in_memory(Settings())
    stores.assets = DiskObjectStore(root / "assets")
    stores.state = DiskObjectStore(root / "state")
    for name, value in parts.items():
        setattr(stores, name, value)
    return stores


def export_cells(root: Path, cells: int) -> dict[str, Any]:
    return run_job(cell_export_full.SHARDED, _stores(root, cells=GeneratedCells(cells)))


def publish_stations(root: Path, wifi: int, blue: int) -> dict[str, Any]:
    return run_job(station_publish.SHARDED, _stores(root, stations=GeneratedStations(wifi, blue)))


def render_tiles(root: Path, cities: int) -> dict[str, Any]:
    from bench.tile_render import city_cells

    base = city_cells(60.0)
    coverage = MemoryCoverageStore()
    rng = random.Random(3)
    for _ in range(cities):
        dlat, dlon = rng.randrange(-20_000, 10_000), rng.randrange(-100_000, 100_000)
        coverage.grids.update({("ne", f"{lat + dlat},{lon + dlon}"): "2026-11-23" for lat, lon in base})
    stores = _stores(root, coverage=coverage)
    first = run_job(tiles.SHARDED, stores)
    walker = random.Random(99)
    from bench.tile_render import walk

    day = walk(walker, 150, start=(52.82, 13.70))
    coverage.grids.update({("ne", f"{lat},{lon}"): "2026-11-24" for lat, lon in day})
    second = run_job(tiles.SHARDED, stores)
    return {"cells": len(coverage.grids), "full": first, "day": second, "day_cells": len(day)}


def import_rows(root: Path, rows: int) -> dict[str, Any]:
    from openloc.publish.cell_export import export_lines

    stores = _stores(root, stations=MemoryStationStore())
    stores.cells = MemoryCellSource(stores.stations)  # type: ignore[arg-type]
    key = f"{bulk_import.UPLOADS_PREFIX}bench.csv"
    with stores.state.writer(key, "text/csv") as out:
        for chunk in export_lines(synthetic_cell(i) for i in range(rows)):
            out.write(chunk)
    return run_job(bulk_import.SHARDED, stores, {"params": {"key": key}})


def projections(results: dict[str, Any], prices: Prices | None = None) -> dict[str, Any]:
    """Wall time and AWS cost of 45 M cells and 1.5 B Wi-Fi stations from the measured shards.

    Assumptions (stated in docs/benchmarks.md): a shard runs as fast on the jobs function (1 769 MB
    = one vCPU, arm64) as one core here; all shards of a stage run at once up to the stage's
    MaxConcurrency; the plan and finish steps grow linearly with the data; DynamoDB parallel Scan
    reads ~400 bytes per cell and ~500 per station item (eventually consistent: 0.5 read unit per
    4 KB); a Step Functions standard transition is $0.000025, about 3 per shard and 3 per stage."""
    prices = prices or Prices()
    gb = 1.769
    transition = 0.000025
    out: dict[str, Any] = {}
    export = results["export"]
    stage = export["stages"]["cells"]
    cells = results["args"]["cells"]
    per_cell = stage["mean_seconds"] * stage["shards"] / cells
    shard_cells = Settings().cell_export_shard_cells
    shards = -(-int(45e6) // shard_cells)
    steps = sum(s["seconds"] for s in export["steps"]) * 45e6 / cells
    wall = -(-shards // 64) * per_cell * shard_cells + steps
    out["export_45m"] = {
        "shards": shards,
        "shard_seconds": per_cell * shard_cells,
        "wall_minutes": wall / 60,
        "lambda_usd": (per_cell * 45e6 + steps) * gb * prices.lambda_gb_second,
        "dynamodb_usd": 45e6 * 400 / 4096 * 0.5 * prices.dynamodb_read_unit,
        "stepfunctions_usd": (3 + 3 * shards) * transition,
    }
    publish = results["publish"]
    scale = 1.5e9 / (results["args"]["wifi"] + results["args"]["blue"])
    wall = busy = 0.0
    count_total = 0
    for name, stage in publish["stages"].items():
        count = int(stage["shards"] * scale) if name != "files" else stage["shards"]
        concurrency = {"scan": 64, "build": 64, "files": 16}[name]
        if name == "files":  # a file cannot be split: the largest grows with the data
            wall += stage["max_seconds"] * scale
            busy += stage["mean_seconds"] * stage["shards"] * scale
        else:
            wall += -(-count // concurrency) * stage["mean_seconds"]
            busy += count * stage["mean_seconds"]
        count_total += count
    steps = sum(s["seconds"] for s in publish["steps"]) * scale
    out["publish_1_5b"] = {
        "shards": count_total,
        "wall_minutes": (wall + steps) / 60,
        "lambda_usd": (busy + steps) * gb * prices.lambda_gb_second,
        "dynamodb_usd": 1.5e9 * 500 / 4096 * 0.5 * prices.dynamodb_read_unit,
        "stepfunctions_usd": (9 + 3 * count_total) * transition,
    }
    tiles = results.get("tiles")
    if tiles:  # a world datamap of WORLD_GRID_CELLS, cut as the job cuts it
        per_shard = Settings().tiles_shard_cells
        shards = -(-int(WORLD_GRID_CELLS) // per_shard)
        for name, run in (("tiles_world_first", tiles["full"]), ("tiles_world_day", tiles["day"])):
            grid, render = run["stages"]["grid"], run["stages"]["render"]
            per_cell = (
                grid["mean_seconds"] * grid["shards"] + render["mean_seconds"] * render["shards"]
            ) / tiles["cells"]
            wall = -(-shards // 32) * per_cell * per_shard * 2  # grid then render, 32 at a time
            out[name] = {
                "shards": 2 * shards,
                "wall_minutes": wall / 60,
                "lambda_usd": per_cell * WORLD_GRID_CELLS * gb * prices.lambda_gb_second,
                "dynamodb_usd": WORLD_GRID_CELLS * 100 / 4096 * 0.5 * prices.dynamodb_read_unit,
                "stepfunctions_usd": (6 + 3 * 2 * shards) * transition,
            }
    imported = results.get("import")
    if imported:  # 45 M rows: the table's write quota bounds it, not the shards' CPU
        rows = imported["stages"]["rows"]
        per_row = rows["mean_seconds"] * rows["shards"] / results["args"]["import_rows"]
        shard_rows = results["args"]["import_rows"] / rows["shards"]
        shards = -(-int(45e6) // int(shard_rows))
        cpu_wall = -(-shards // 8) * per_row * shard_rows
        out["import_45m"] = {
            "shards": shards,
            "wall_minutes": max(cpu_wall, 45e6 / TABLE_WRITES_PER_SECOND) / 60,
            "lambda_usd": max(per_row * 45e6, 45e6 / TABLE_WRITES_PER_SECOND * 8)
            * gb
            * prices.lambda_gb_second,
            "dynamodb_usd": 45e6 * prices.dynamodb_write_unit,
            "stepfunctions_usd": (6 + 3 * shards) * transition,
        }
    return out


def markdown(results: dict[str, Any]) -> str:
    """The tables of docs/benchmarks.md ("Sharded jobs at scale") from one stored run."""
    lines = [
        "| job | stage | shards | work per shard | mean s | max s | throughput per shard | max Δ memory MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    args = results["args"]
    units = {
        ("cell_export_full", "cells"): ("cells", min(args["cells"], Settings().cell_export_shard_cells)),
        ("station_publish", "scan"): (
            "stations",
            min(args["wifi"] + args["blue"], Settings().publish_shard_stations),
        ),
        ("cell_import", "rows"): ("rows", args["import_rows"]),
    }
    jobs = [results.get("export"), results.get("publish"), (results.get("tiles") or {}).get("full")]
    jobs.append((results.get("tiles") or {}).get("day"))
    jobs.append(results.get("import"))
    for index, job in enumerate(jobs):
        if not job:
            continue
        task = job["task"] + (" (+1 day)" if index == 3 else "")
        for name, stage in job["stages"].items():
            unit, size = units.get((job["task"], name), ("", 0))
            if job["task"] == "cell_import" and name == "rows":
                size = size / max(stage["shards"], 1)
            rate = f"{size / stage['mean_seconds']:,.0f} {unit}/s" if unit and stage["mean_seconds"] else "–"
            work = f"{size:,.0f} {unit}" if unit else "–"
            lines.append(
                f"| {task} | {name} | {stage['shards']} | {work} | {stage['mean_seconds']:.1f} | "
                f"{stage['max_seconds']:.1f} | {rate} | {stage['max_rss_delta_mib']:.0f} |"
            )
    out = ["\n".join(lines)]
    projected = projections(results) if "export" in results and "publish" in results else None
    if projected:
        out.append(
            "\n".join(
                [
                    "| projection | shards | wall time | Lambda $ | DynamoDB $ | Step Functions $ | total $ |",
                    "|---|---|---|---|---|---|---|",
                    *(
                        f"| {name} | {p['shards']:,} | {p['wall_minutes']:.1f} min | {p['lambda_usd']:.2f} | "
                        f"{p['dynamodb_usd']:.2f} | {p['stepfunctions_usd']:.2f} | "
                        f"{p['lambda_usd'] + p['dynamodb_usd'] + p['stepfunctions_usd']:.2f} |"
                        for name, p in (
                            (label, projected[key])
                            for key, label in (
                                ("export_45m", "full cell export, 45 M cells"),
                                ("publish_1_5b", "dumps and packs, 1.5 B Wi-Fi stations"),
                                ("import_45m", "import, 45 M rows (table at 40 000 writes/s)"),
                                ("tiles_world_first", "tiles, first render of 100 M grid cells"),
                                ("tiles_world_day", "tiles, a day later (same 100 M cells)"),
                            )
                            if key in projected
                        )
                    ),
                ]
            )
        )
    return "\n\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cells", type=int, default=5_000_000)
    parser.add_argument("--wifi", type=int, default=20_000_000)
    parser.add_argument("--blue", type=int, default=500_000)
    parser.add_argument(
        "--grid-cities", type=int, default=8, help="copies of the 60 km city (136 k cells each)"
    )
    parser.add_argument("--import-rows", type=int, default=1_500_000)
    parser.add_argument("--only", default="", help="comma-separated: export,publish,tiles,import")
    parser.add_argument(
        "--markdown", default="", help="print the docs tables of a stored result file and exit"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return
    wanted = set(filter(None, args.only.split(","))) or {"export", "publish", "tiles", "import"}
    results: dict[str, Any] = {
        "args": vars(args),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "prices": PRICES_AS_OF,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    root = Path(tempfile.mkdtemp(prefix="openloc-shard-scale-"))
    try:
        steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("export", lambda: export_cells(root / "export", args.cells)),
            ("publish", lambda: publish_stations(root / "publish", args.wifi, args.blue)),
            ("tiles", lambda: render_tiles(root / "tiles", args.grid_cities)),
            ("import", lambda: import_rows(root / "import", args.import_rows)),
        ]
        for name, step in steps:
            if name in wanted:
                results[name] = step()
                print(json.dumps({name: results[name]}, default=str)[:2000], flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if {"export", "publish"} <= wanted:
        results["projections"] = projections(results)
        print(json.dumps(results["projections"], indent=1))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"shard-scale-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
