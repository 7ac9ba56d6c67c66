"""Collect every benchmark, store the run, compare with the previous one, regenerate the docs."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
SECTIONS = (
    "locate", "http", "aggregation", "export", "tiles", "imports", "request_cost", "packages", "accuracy"
)  # fmt: skip


@dataclass(frozen=True)
class Profile:
    world: str
    locate_iterations: int
    http_seconds: float
    http_levels: list[int] = field(default_factory=lambda: [1, 8, 32])
    import_runs: int = 7
    export_rows: int = 200_000
    batch_sizes: tuple[int, ...] = (10, 100, 1_000, 10_000)
    tile_city_km: float = 30.0  # bench/tile_render.py city size


PROFILES = {
    "tiny": Profile("tiny", 200, 1.0, [1, 4], 1, 5_000, (10, 100), tile_city_km=5.0),
    "default": Profile("default", 2_000, 5.0),
    "large": Profile("large", 5_000, 15.0, import_runs=11, export_rows=1_000_000, tile_city_km=60.0),
}


def _load() -> str:
    try:
        return " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "load_start": _load(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
    }


def locate_section(profile: Profile) -> dict[str, Any]:
    from bench.locate_engine import SHAPES, timings

    rows = []
    histogram: list[float] = []
    for wifis, cells, outliers in SHAPES:
        samples = timings(wifis, cells, outliers, profile.locate_iterations)
        rows.append(
            {"wifi": wifis, "cells": cells, "outliers": outliers, "p50_us": statistics.median(samples),
             "p99_us": samples[max(0, int(len(samples) * 0.99) - 1)]}
        )  # fmt: skip
        if (wifis, cells, outliers) == (50, 10, 0):
            histogram = [round(s, 2) for s in samples]
    return {"shapes": rows, "samples_50wifi_10cells_us": histogram}


def http_section(profile: Profile) -> dict[str, Any]:
    from bench.http_load import measure_levels

    rows = measure_levels(profile.http_levels, profile.http_seconds)
    for row in rows:
        samples = row.pop("samples")
        if row["concurrency"] == 1:
            row["samples_ms"] = [round(s, 2) for s in samples]
    return {"levels": rows, "seconds_per_level": profile.http_seconds}


def aggregation_section(profile: Profile) -> dict[str, Any]:
    from bench.aggregate_core import throughput_rows, write_cost_rows

    return {"throughput": throughput_rows(profile.batch_sizes), "write_cost": write_cost_rows()}


def export_section(profile: Profile) -> dict[str, Any]:
    from bench.perf.export import export_throughput

    return export_throughput(profile.export_rows)


def tiles_section(profile: Profile) -> dict[str, Any]:
    from bench.tile_render import measure

    return {"runs": measure((profile.tile_city_km,))}


def imports_section(profile: Profile) -> dict[str, Any]:
    from bench.import_time import summary

    return summary(profile.import_runs)


def request_cost_section(profile: Profile) -> dict[str, Any]:
    from bench.request_cost import TINY_CASES, limits, measure

    return {"limits": limits(), "rows": measure(list(TINY_CASES) if profile.world == "tiny" else None)}


def packages_section(profile: Profile) -> dict[str, Any]:
    from bench.geoip_trim import measure
    from bench.perf.packages import package_sizes

    sizes = package_sizes(ROOT)
    if sizes.get("built"):
        sizes["geoip_trim"] = measure(2_000 if profile.world == "tiny" else 20_000)
    return sizes


def accuracy_section(profile: Profile) -> dict[str, Any]:
    """The accuracy profiles on their evaluation seeds (`default`); one world for `tiny`/`large`."""
    from bench.accuracy.run import SIZES, run_profiles
    from bench.world import EVAL_SEEDS

    if profile.world in ("tiny", "large"):
        world = SIZES[profile.world]
        return run_profiles({profile.world: world}, (world.seed,))
    return run_profiles(seeds=EVAL_SEEDS)


RUNNERS = {
    "locate": locate_section,
    "http": http_section,
    "aggregation": aggregation_section,
    "export": export_section,
    "tiles": tiles_section,
    "imports": imports_section,
    "request_cost": request_cost_section,
    "packages": packages_section,
    "accuracy": accuracy_section,
}


def headline(results: dict[str, Any]) -> dict[str, tuple[float, bool]]:
    """Flat metrics for the comparison with the previous run: name → (value, higher is better)."""
    out: dict[str, tuple[float, bool]] = {}
    for row in (results.get("locate") or {}).get("shapes", []):
        shape = f"{row['wifi']} Wi-Fi + {row['cells']} cells + {row['outliers']} outliers"
        out[f"locate p50 µs ({shape})"] = (row["p50_us"], False)
        out[f"locate p99 µs ({shape})"] = (row["p99_us"], False)
    for row in (results.get("http") or {}).get("levels", []):
        out[f"HTTP req/s (concurrency {row['concurrency']})"] = (row["rps"], True)
        out[f"HTTP p99 ms (concurrency {row['concurrency']})"] = (row["p99_ms"], False)
    for obs, _, rate in (results.get("aggregation") or {}).get("throughput", []):
        out[f"aggregation obs/s/core (batch {obs})"] = (rate, True)
    export = results.get("export") or {}
    if "rows_per_s" in export:
        out["export rows/s"] = (export["rows_per_s"], True)
    for row in (results.get("tiles") or {}).get("runs", []):
        if row["run"] in ("full", "+1 day"):
            out[f"tiles {row['run']} s ({row['city_km']:g} km city)"] = (row["seconds"], False)
    for name, row in (results.get("imports") or {}).items():
        if isinstance(row, dict) and "ratio" in row:
            out[f"cold import × import boto3 ({name})"] = (row["ratio"], False)
    accepted = [
        r for r in (results.get("request_cost") or {}).get("rows", []) if r["status"] and r["status"] < 400
    ]
    if accepted:
        out["request cost: most memory of an accepted body, MB"] = (
            max(r["delta_mb"] for r in accepted),
            False,
        )
        out["request cost: most CPU of an accepted body, ms"] = (max(r["cpu_ms"] for r in accepted), False)
    packages = results.get("packages") or {}
    if packages.get("built"):
        # Older runs recorded one layer (`layer`, `geoip_layer`); comparisons start afresh.
        for name, row in (packages.get("layers") or {}).items():
            out[f"layer {name} MB (zipped)"] = (row["zipped_mb"], False)
        for name, row in packages.get("functions", {}).items():
            if "total" in row:
                out[f"function {name} with its layers, MB unzipped"] = (row["total"], False)
    reads = (results.get("accuracy") or {}).get("reads")
    if reads:
        from bench.accuracy.reads import phone_keys

        keys = phone_keys(reads)
        out["DynamoDB keys per phone query (staged, cached)"] = (keys["cached"], False)
        out["station cache hit rate"] = (keys["hit_rate"], True)
    cost = results.get("cost") or {}
    for api, parts in (cost.get("locate_by_api") or {}).items():
        out[f"$ per million locate calls ({api})"] = (parts["total"], False)
    from bench.accuracy.report import goal_rows

    for name, accuracy in ((results.get("accuracy") or {}).get("profiles") or {}).items():
        for row in goal_rows(accuracy["engines"]):
            if row["kind"] not in ("wifi", "wifi_cell", "ble", "cell", "cell_area"):
                continue
            label = f"{name} {row['kind']}"
            s = accuracy["engines"]["openloc"][row["kind"]]
            out[f"OpenLoc {label} median error m"] = (s["median_m"], False)
            out[f"OpenLoc {label} p90 error m"] = (s["p90_m"], False)
            if row["median_ratio"] is not None:
                out[f"OpenLoc {label} median ÷ better baseline"] = (row["median_ratio"], False)
            out[f"OpenLoc {label} inside 95 % radius"] = (s["coverage"], True)
            out[f"OpenLoc {label} radius ÷ error"] = (s["radius_to_error"], False)
    return out


def previous_run(
    results_dir: Path, profile: str, exclude: Path | None = None
) -> tuple[Path, dict[str, Any]] | None:
    runs = sorted(p for p in results_dir.glob(f"{profile}-*.json") if p != exclude)
    if not runs:
        return None
    return runs[-1], json.loads(runs[-1].read_text())


def compare(current: dict[str, Any], previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    now = headline(current)
    before = headline(previous) if previous else {}
    rows = []
    for name, (value, higher_better) in now.items():
        old = before.get(name, (None, higher_better))[0]
        ratio = value / old if old else None
        rows.append(
            {
                "metric": name,
                "value": value,
                "previous": old,
                "ratio": ratio,
                "higher_is_better": higher_better,
            }
        )
    return rows


def git_commit() -> str:
    """The commit measured, marked when tracked files differ from it (the report says so)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} + uncommitted changes" if changed else head


def render_stored(path: Path, docs_dir: Path) -> None:
    """Regenerate docs/benchmarks.md from a stored run (comparison recomputed against its previous)."""
    from bench.perf.docs import write_docs

    results = json.loads(path.read_text())
    results.setdefault("file", path.name)
    before = path.parent / results["previous"] if results.get("previous") else None
    results["comparison"] = compare(
        results, json.loads(before.read_text()) if before and before.exists() else None
    )
    write_docs(results, docs_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--skip", default="", help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md and plots")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--docs-dir", type=Path, default=ROOT / "docs")
    parser.add_argument("--render", type=Path, help="only regenerate the docs from this stored run")
    args = parser.parse_args(argv)
    if args.render is not None:
        render_stored(args.render, args.docs_dir)
        return
    profile = PROFILES[args.profile]
    skipped = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = time.perf_counter()
    results: dict[str, Any] = {
        "profile": args.profile,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "command": " ".join(["python -m bench.perf", *(argv if argv is not None else sys.argv[1:])]),
        "seconds": {},
    }
    for section in SECTIONS:
        if section in skipped:
            results[section] = None
            continue
        print(f"[bench] {section} …", file=sys.stderr, flush=True)
        t = time.perf_counter()
        results[section] = RUNNERS[section](profile)
        results["seconds"][section] = round(time.perf_counter() - t, 1)
    results["seconds"]["total"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_end"] = _load()
    from infra.costs import cost_summary

    results["cost"] = cost_summary(results)
    results_dir: Path = args.results_dir
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = results_dir / f"{args.profile}-{stamp}.json"
    suffix = 1
    while target.exists():  # two runs within one second
        suffix += 1
        target = results_dir / f"{args.profile}-{stamp}_{suffix}.json"  # sorts after the first
    before = previous_run(results_dir, args.profile, exclude=target)
    results["previous"] = before[0].name if before else None
    results["file"] = target.name
    results["comparison"] = compare(results, before[1] if before else None)
    target.write_text(json.dumps(results, indent=1) + "\n")
    print(
        f"[bench] results: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}",
        file=sys.stderr,
    )
    if not args.no_docs:
        from bench.perf.docs import write_docs

        write_docs(results, args.docs_dir)
    from bench.perf.docs import comparison_table

    print(comparison_table(results))
