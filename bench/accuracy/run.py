"""Accuracy of OpenLoc against the two baselines on a simulated world (see bench/accuracy/__init__)."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from openloc.aggregate.station_update import UpdatePolicy
from openloc.api.services import country_radius_m
from openloc.locate.geoip import GeoIpDatabase

from bench.accuracy.engines import Centroid, Locator, OpenLocHttp, parsed
from bench.accuracy.feed import feed
from bench.accuracy.ichnaea import Ichnaea
from bench.accuracy.metrics import Tally
from bench.accuracy.reads import PHONE_KIND, RATES, STREAM_SECONDS, measure_reads
from bench.world import (
    LARGE,
    TINY,
    Query,
    Radios,
    World,
    WorldConfig,
    generate_world,
    make_queries,
    survey_uploads,
    write_geoip_mmdb,
)

SIZES = {"tiny": TINY, "default": WorldConfig(), "large": LARGE}


def phone_stream(world: World, radios: Radios) -> list[Query]:
    """Phone queries (Wi-Fi + cells) enough for the cached replays of `bench.accuracy.reads`."""
    count = int(STREAM_SECONDS * max(RATES))
    longer = replace(world, config=replace(world.config, queries_per_kind=count))
    return make_queries(longer, kinds=(PHONE_KIND,), radios=radios)


ENGINES = ("openloc", "ichnaea", "centroid")


def run(config: WorldConfig, policy: UpdatePolicy | None = None) -> dict[str, Any]:
    """Generate the world, aggregate its survey (with `policy`, default the service's), ask its
    queries to the three locators."""
    started = time.perf_counter()
    world = generate_world(config)
    radios = Radios(world)
    uploads = survey_uploads(world, radios)
    queries = make_queries(world, radios=radios)
    generated = time.perf_counter() - started
    fed = feed(uploads, policy)
    with tempfile.TemporaryDirectory() as tmp:
        mmdb = write_geoip_mmdb(world, Path(tmp) / "world.mmdb")
        openloc = OpenLocHttp(fed.stations, mmdb)
        geoip = GeoIpDatabase(str(mmdb), country_radius=country_radius_m)
        locators: dict[str, Locator] = {
            "openloc": openloc,
            "ichnaea": Ichnaea(fed.stations, mmdb, config.query_time, country_radius_m("DE") or 5e6),
            "centroid": Centroid(fed.stations, geoip),
        }
        tallies: dict[str, dict[str, Tally]] = {name: {} for name in locators}
        for query in queries:
            for name, locate in locators.items():
                tallies[name].setdefault(query.kind, Tally()).add(query, locate(query))
        geoip.close()
        reads = measure_reads(fed.stations, queries, phone_stream(world, radios), mmdb, config.seed)
    stations = fed.stations.stations
    latencies = sorted(openloc.latencies_ms)
    return {
        "world": {
            "config": {k: str(v) if not isinstance(v, int | float) else v for k, v in asdict(config).items()},
            "wifi_aps": sum(e.kind == "wifi" for e in world.emitters),
            "ble_beacons": sum(e.kind == "blue" for e in world.emitters),
            "cell_sectors": len(world.sectors),
            "uploads": len(uploads),
            "reports": fed.reports,
            "observations": fed.observations,
            "queries": len(queries),
            "observations_per_upload": fed.observations / max(len(uploads), 1),
            # what a phone sends (Wi-Fi + cells): station keys looked up per /v1/geolocate call
            "keys_per_query": statistics.fmean(
                len(parsed(q).station_keys) for q in queries if q.kind == "wifi_cell"
            )
            if any(q.kind == "wifi_cell" for q in queries)
            else 0.0,
            "generate_s": round(generated, 2),
            "aggregate_s": round(fed.seconds, 2),
            "stations": {
                kind: sum(k.startswith(kind + "#") and s.lat is not None for k, s in stations.items())
                for kind in ("wifi", "blue", "cell")
            },
            "blocked": sum(s.lat is None for s in stations.values()),
            "areas": len(fed.stations.areas),
            "changes": fed.changes,
        },
        "http_latency_ms": {
            "p50": statistics.median(latencies) if latencies else None,
            "p99": latencies[int(len(latencies) * 0.99) - 1] if latencies else None,
            "samples": [round(v, 3) for v in latencies],
        },
        "engines": {
            name: {kind: tally.summary() for kind, tally in by_kind.items()}
            for name, by_kind in tallies.items()
        },
        "reads": reads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument("--json", type=Path, help="write the full result here")
    args = parser.parse_args()
    result = run(SIZES[args.size])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    from bench.accuracy.report import accuracy_tables

    print(json.dumps(result["world"], indent=1))
    print(accuracy_tables(result))


if __name__ == "__main__":
    main()
