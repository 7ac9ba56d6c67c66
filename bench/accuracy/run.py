"""Accuracy of OpenLoc against the two baselines on simulated worlds (see bench/accuracy/__init__).

One world (`run`): generate it, aggregate its survey twice — with OpenLoc's station estimation
and with the previous one (Ichnaea's weighted means, `UpdatePolicy(fit_positions=False)`), on
which the baselines and the previous engine run — and ask its held-out queries to five locators:

- `openloc`: the real `/v1/geolocate` app on OpenLoc's stations;
- `oracle`: the same engine (`openloc.locate.service.locate`) on the *true* positions of the
  Wi-Fi access points and Bluetooth beacons (cells as aggregated): the error left when station
  estimation is perfect, so the gap to `openloc` is what station estimation costs;
- `before`: the previous engine (`bench.accuracy.before`) on the previous aggregation;
- `ichnaea` (b) and `centroid` (a): the baselines, on the previous aggregation.

Profiles (`run_profiles`): every world of `bench.world.PROFILES` on the evaluation seeds, pooled
per profile. Nothing is fitted on those seeds (`bench.accuracy.fit_radius` uses TRAIN_SEED).

Run: `python -m bench.accuracy [--size tiny|default|large|profiles] [--json out.json]`.
"""

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
from openloc.locate.lookup import RecordLookup
from openloc.locate.service import locate
from openloc.store.stations import MemoryStationStore

from bench.accuracy.before import Before
from bench.accuracy.engines import Answer, Centroid, Locator, OpenLocHttp, parsed
from bench.accuracy.feed import feed, prepare
from bench.accuracy.ichnaea import Ichnaea
from bench.accuracy.metrics import Tally
from bench.accuracy.reads import PHONE_KIND, RATES, STREAM_SECONDS, measure_reads
from bench.world import (
    EVAL_SEEDS,
    LARGE,
    PROFILES,
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
ENGINES = ("openloc", "oracle", "before", "ichnaea", "centroid")
BASELINES = ("ichnaea", "centroid")


def phone_stream(world: World, radios: Radios) -> list[Query]:
    """Phone queries (Wi-Fi + cells) enough for the cached replays of `bench.accuracy.reads`."""
    count = int(STREAM_SECONDS * max(RATES))
    longer = replace(world, config=replace(world.config, queries_per_kind=count))
    return make_queries(longer, kinds=(PHONE_KIND,), radios=radios)


def oracle_stations(world: World, stations: MemoryStationStore) -> MemoryStationStore:
    """The aggregated stations with every Wi-Fi/Bluetooth position replaced by the truth at query
    time (moved ones at their new place, mobile ones where the bus is)."""
    t = (world.config.query_time - world.config.survey_start).total_seconds()
    emitters = {e.mac: e for e in world.emitters}
    truth = MemoryStationStore()
    truth.areas = dict(stations.areas)
    for key, record in stations.stations.items():
        kind, _, mac = key.partition("#")
        emitter = emitters.get(mac) if kind in ("wifi", "blue") else None
        if emitter is not None and record.lat is not None:
            lat, lon = world.frame.to_latlon(*emitter.position(t))
            truth.stations[key] = replace(record, lat=lat, lon=lon)
        else:
            truth.stations[key] = record
    return truth


class Engine:
    """OpenLoc's engine without HTTP and GeoIP (the oracle row)."""

    def __init__(self, stations: MemoryStationStore) -> None:
        self.lookup = RecordLookup(stations)

    def __call__(self, query: Query) -> Answer | None:
        found = locate(self.lookup, parsed(query))
        return None if found is None else Answer(found.lat, found.lon, found.accuracy, found.source.value)


def _world(
    config: WorldConfig, policy: UpdatePolicy | None, reads: bool = False
) -> tuple[dict[str, Any], dict[str, dict[str, Tally]], list[float], dict[str, Any] | None]:
    """One world's summary, tallies per locator and kind, OpenLoc's HTTP latencies, and (with
    `reads`) the DynamoDB reads per locate call of `bench.accuracy.reads`."""
    started = time.perf_counter()
    world = generate_world(config)
    radios = Radios(world)
    uploads = survey_uploads(world, radios)
    queries = make_queries(world, radios=radios)
    generated = time.perf_counter() - started
    prepared = prepare(uploads)
    fed = feed(prepared, policy)
    previous = feed(prepared, replace(policy or UpdatePolicy(), fit_positions=False))
    with tempfile.TemporaryDirectory() as tmp:
        mmdb = write_geoip_mmdb(world, Path(tmp) / "world.mmdb")
        openloc = OpenLocHttp(fed.stations, mmdb)
        geoip = GeoIpDatabase(str(mmdb), country_radius=country_radius_m)
        locators: dict[str, Locator] = {
            "openloc": openloc,
            "oracle": Engine(oracle_stations(world, fed.stations)),
            "before": Before(previous.stations),
            "ichnaea": Ichnaea(previous.stations, mmdb, config.query_time, country_radius_m("DE") or 5e6),
            "centroid": Centroid(previous.stations, geoip),
        }
        tallies: dict[str, dict[str, Tally]] = {name: {} for name in locators}
        for query in queries:
            for name, answer in locators.items():
                tallies[name].setdefault(query.kind, Tally()).add(query, answer(query))
        geoip.close()
        measured = (
            measure_reads(fed.stations, queries, phone_stream(world, radios), mmdb, config.seed)
            if reads
            else None
        )
    stations = fed.stations.stations
    info = {
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
        "aggregate_previous_s": round(previous.seconds, 2),
        "stations": {
            kind: sum(k.startswith(kind + "#") and s.lat is not None for k, s in stations.items())
            for kind in ("wifi", "blue", "cell")
        },
        "blocked": sum(s.lat is None for s in stations.values()),
        "areas": len(fed.stations.areas),
        "changes": fed.changes,
    }
    return info, tallies, openloc.latencies_ms, measured


def _latency(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "p50": statistics.median(ordered) if ordered else None,
        "p99": ordered[int(len(ordered) * 0.99) - 1] if ordered else None,
        "samples": [round(v, 3) for v in ordered],
    }


def run(config: WorldConfig, policy: UpdatePolicy | None = None) -> dict[str, Any]:
    """One world: aggregate its survey (with `policy`, default the service's) and ask its queries
    to every locator."""
    info, tallies, latencies, reads = _world(config, policy, reads=True)
    return {
        "world": info,
        "http_latency_ms": _latency(latencies),
        "engines": {
            name: {kind: t.summary() for kind, t in by_kind.items()} for name, by_kind in tallies.items()
        },
        "reads": reads,
    }


def run_profiles(
    profiles: dict[str, WorldConfig] | None = None, seeds: tuple[int, ...] = EVAL_SEEDS
) -> dict[str, Any]:
    """Every profile on every seed, the queries of a profile's seeds pooled. The reads per locate
    call (`bench.accuracy.reads`, the cost model's input) are measured on the first world."""
    out: dict[str, Any] = {"seeds": list(seeds), "profiles": {}, "reads": None}
    latencies: list[float] = []
    for name, base in (profiles or PROFILES).items():
        pooled: dict[str, dict[str, Tally]] = {engine: {} for engine in ENGINES}
        worlds = []
        for seed in seeds:
            first = out["reads"] is None
            info, tallies, times, reads = _world(replace(base, seed=seed), None, reads=first)
            if first:
                out["reads"] = reads
                out["reads_world"] = f"{name}, seed {seed}"
            worlds.append(info)
            latencies += times
            for engine, by_kind in tallies.items():
                for kind, tally in by_kind.items():
                    pooled[engine].setdefault(kind, Tally()).merge(tally)
        out["profiles"][name] = {
            "worlds": worlds,
            "engines": {
                e: {kind: t.summary() for kind, t in by_kind.items()} for e, by_kind in pooled.items()
            },
        }
    first = next(iter(out["profiles"].values()))
    out["world"] = first["worlds"][0]  # the cost model's inputs (keys per query, observations per upload)
    out["http_latency_ms"] = _latency(latencies)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=[*sorted(SIZES), "profiles"], default="profiles")
    parser.add_argument("--json", type=Path, help="write the full result here")
    args = parser.parse_args()
    from bench.accuracy.report import accuracy_tables, profile_tables

    if args.size == "profiles":
        result = run_profiles()
        print(profile_tables(result))
    else:
        result = run(SIZES[args.size])
        print(json.dumps(result["world"], indent=1))
        print(accuracy_tables(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
