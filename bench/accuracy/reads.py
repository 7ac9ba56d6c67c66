"""DynamoDB reads per locate call: strongest first and the per-instance cache, on the world's queries.

Every station key a locate call reads is one eventually consistent read (½ read request unit,
paid whether or not the station exists). On the simulated world of bench/accuracy this measures,
with the same stations, queries and GeoIP file, in one run:

- `all_at_once`: the whole query read in one round (`locate(..., staged=False)`, the old path);
- `staged`: strongest Wi-Fi first, the rest only when they do not settle the answer (the service);
- `cached`: the service's path behind `CachedRecords` (the API's per-instance cache, its default
  size and TTL) on a longer stream of phone queries (`STREAM_SECONDS` of requests at each of
  `RATES` requests per second into one instance: the cache warms up in its first TTL and is then
  measured in a steady state), so the TTL expires entries as it would there.

Keys are counted at the source (what DynamoDB would be asked), per query kind, and the error of
each answer against the truth is tallied for `all_at_once` and `staged`, so the accuracy cost of
reading less is measured on the same queries (`metrics.Tally`).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openloc.api.services import country_radius_m
from openloc.locate.geoip import GeoIpDatabase
from openloc.locate.lookup import CachedRecords, RecordLookup, RecordSource
from openloc.locate.query import Estimate
from openloc.locate.service import locate
from openloc.model.records import StationRecord
from openloc.settings import Settings

from bench.accuracy.engines import Answer, parsed
from bench.accuracy.metrics import Tally
from bench.world import Query
from bench.world.model import QueryKind

# Requests per second one Lambda instance serves in the cached replay (the cost model's input is
# the middle one: docs/benchmarks.md, "Reads per locate call").
RATES = (5.0, 20.0, 50.0)
COST_MODEL_RATE = 20.0
# Length of the cached replay: five TTLs of the default cache at every rate.
STREAM_SECONDS = 300.0
# What a phone sends (Wi-Fi + cells): the kind the cost per call is priced on.
PHONE_KIND: QueryKind = "wifi_cell"


@dataclass
class CountingSource:
    """A `RecordSource` over the world's stations that counts the keys it is asked for."""

    source: RecordSource
    keys: int = 0
    rounds: int = 0

    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        self.keys += len(keys)
        self.rounds += 1
        return self.source.get_stations(keys)

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        self.keys += len(keys)
        self.rounds += 1
        return self.source.get_areas(keys)


@dataclass
class Replay:
    """One way of reading: keys and rounds per query kind, and the answers' tally."""

    keys: dict[str, list[int]] = field(default_factory=dict)
    rounds: dict[str, list[int]] = field(default_factory=dict)
    tallies: dict[str, Tally] = field(default_factory=dict)


def _answer(estimate: Estimate | None) -> Answer | None:
    if estimate is None:
        return None
    return Answer(estimate.lat, estimate.lon, estimate.accuracy, estimate.fallback or "-")


def _replay(
    queries: list[Query], counting: CountingSource, lookup: RecordLookup, geoip: GeoIpDatabase, staged: bool
) -> Replay:
    out = Replay()
    for query in queries:
        keys, rounds = counting.keys, counting.rounds
        parsed_query = parsed(query)
        estimate = locate(lookup, parsed_query, geoip, staged=staged)
        out.keys.setdefault(query.kind, []).append(counting.keys - keys)
        out.rounds.setdefault(query.kind, []).append(counting.rounds - rounds)
        out.tallies.setdefault(query.kind, Tally()).add(query, _answer(estimate))
    return out


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def measure_reads(
    stations: RecordSource, queries: list[Query], phone_stream: list[Query], mmdb: Path, seed: int = 1
) -> dict[str, Any]:
    """The reads section of the accuracy run (see module doc); `phone_stream`: at least
    `STREAM_SECONDS` × the highest rate phone queries (fewer shorten the cached replays)."""
    geoip = GeoIpDatabase(str(mmdb), country_radius=country_radius_m)
    # A stream, not a list grouped by kind: the replays and the cache see the queries mixed.
    stream = list(queries)
    random.Random(f"{seed}/reads").shuffle(stream)
    counting = CountingSource(stations)
    lookup = RecordLookup(counting)
    at_once = _replay(stream, counting, lookup, geoip, staged=False)
    staged = _replay(stream, counting, lookup, geoip, staged=True)
    settings = Settings(environ={})
    cached: dict[str, Any] = {}
    phones = list(phone_stream)
    random.Random(f"{seed}/phones").shuffle(phones)
    parsed_phones = [(query.kind, parsed(query)) for query in phones]
    stream_tallies = {"all_at_once": Tally(), "cached": Tally()}
    for rate in RATES:
        clock = _Clock()
        counting = CountingSource(stations)
        cache = CachedRecords(counting, settings.station_cache_entries, settings.station_cache_seconds, clock)
        cached_lookup = RecordLookup(cache)
        keys: dict[str, list[int]] = {}
        trips: dict[str, list[int]] = {}
        warm_up = settings.station_cache_seconds * rate  # the first TTL: a cold cache, not counted
        count = min(len(parsed_phones), int(STREAM_SECONDS * rate))
        hits = misses = 0
        for index, (kind, query) in enumerate(parsed_phones[:count]):
            clock.now = index / rate
            before, rounds = counting.keys, counting.rounds
            if index == int(warm_up):
                hits, misses = cache.hits, cache.misses
            estimate = locate(cached_lookup, query, geoip, staged=True)
            if index >= warm_up:
                keys.setdefault(kind, []).append(counting.keys - before)
                trips.setdefault(kind, []).append(counting.rounds - rounds)
                if rate == COST_MODEL_RATE:  # accuracy of the cached path against all at once
                    truth = phones[index]
                    stream_tallies["cached"].add(truth, _answer(estimate))
                    at_once_answer = locate(lookup, query, geoip, staged=False)
                    stream_tallies["all_at_once"].add(truth, _answer(at_once_answer))
        cached[f"{rate:g}"] = {
            "rate_per_s": rate,
            "queries": count,
            "measured_queries": sum(len(v) for v in keys.values()),
            "hit_rate": (cache.hits - hits) / max(cache.hits - hits + cache.misses - misses, 1),
            "keys_per_query": {kind: statistics.fmean(v) for kind, v in sorted(keys.items())},
            # DynamoDB round trips left (a round whose keys were all cached costs none)
            "round_trips_per_query": {kind: statistics.fmean(v) for kind, v in sorted(trips.items())},
        }
    geoip.close()

    def mean(values: dict[str, list[int]]) -> dict[str, float]:
        return {kind: statistics.fmean(v) for kind, v in sorted(values.items())}

    settled = [
        r == 1 for r, kind in zip(_flatten(staged.rounds, stream), (q.kind for q in stream), strict=True)
        if kind == PHONE_KIND
    ]  # fmt: skip
    return {
        "settings": {
            "cache_entries": settings.station_cache_entries,
            "cache_seconds": settings.station_cache_seconds,
        },
        "phone_kind": PHONE_KIND,
        "cost_model_rate": COST_MODEL_RATE,
        "all_at_once": {"keys_per_query": mean(at_once.keys), "rounds": mean(at_once.rounds)},
        "staged": {
            "keys_per_query": mean(staged.keys),
            "rounds": mean(staged.rounds),
            "phone_settled_first_round": sum(settled) / max(len(settled), 1),
        },
        "cached": cached,
        "handler_cpu_ms": handler_cpu_ms(stations, phones),
        "accuracy": {
            "all_at_once": {kind: t.summary() for kind, t in sorted(at_once.tallies.items())},
            "staged": {kind: t.summary() for kind, t in sorted(staged.tallies.items())},
            # the phone stream's measured part at the cost-model rate: all at once vs the cache
            "stream": {name: t.summary() for name, t in stream_tallies.items()},
        },
    }


def handler_cpu_ms(stations: Any, phones: list[Query], count: int = 600) -> float:
    """Median CPU milliseconds of one phone query through the locate Lambda handler (Powertools
    decorators, Mangum, the app, the staged lookup behind the default cache; in-memory stations,
    so the DynamoDB round trips are left out: the cost model adds them). This machine's core: at
    its memory size Lambda gives a function a share of a vCPU (infra/costs.py scales)."""
    import contextlib
    import importlib.util
    import io
    import json as json_module
    import os
    import time

    from mangum import Mangum
    from openloc.api.app import build_app
    from openloc.api.services import Services
    from openloc.model.records import ApiKeyRecord
    from openloc.store.api_keys import MemoryApiKeyStore
    from openloc.store.queue import MemoryObservationQueue

    from bench.import_time import ROOT as REPO
    from bench.import_time import _Context

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    spec = importlib.util.spec_from_file_location(
        "bench_locate_handler", REPO / "functions" / "locate" / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    services = Services(
        settings=Settings(environ={}),
        stations=stations,
        api_keys=MemoryApiKeyStore(ApiKeyRecord(key="bench")),
        queue=MemoryObservationQueue(),
        redis=lambda: None,
        database_ping=lambda: None,
    )
    handler.asgi = Mangum(build_app(services, submit=False), lifespan="off")  # type: ignore[attr-defined]
    samples = []
    for query in phones[:count]:
        event = {
            "version": "2.0", "routeKey": "$default", "rawPath": "/v1/geolocate", "rawQueryString": "key=bench",
            "headers": {"content-type": "application/json", "host": "bench.local"},
            "requestContext": {"http": {"method": "POST", "path": "/v1/geolocate", "protocol": "HTTP/1.1",
                                        "sourceIp": "192.0.2.1", "userAgent": "bench"},
                               "requestId": "bench", "stage": "$default"},
            "body": json_module.dumps(query.body), "isBase64Encoded": False,
        }  # fmt: skip
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools' metric lines
            started = time.process_time()
            response = handler.handler(event, _Context())
            samples.append((time.process_time() - started) * 1000)
        if response["statusCode"] >= 500:
            raise RuntimeError(f"locate handler failed: {response}")
    return statistics.median(samples)


def _flatten(by_kind: dict[str, list[int]], stream: list[Query]) -> list[int]:
    """Per-kind lists back into stream order."""
    positions = dict.fromkeys(by_kind, 0)
    out = []
    for query in stream:
        out.append(by_kind[query.kind][positions[query.kind]])
        positions[query.kind] += 1
    return out


def phone_keys(reads: dict[str, Any]) -> dict[str, float]:
    """Keys read per phone query: all at once, staged, staged behind the cache (cost-model rate)."""
    kind = reads["phone_kind"]
    cached = reads["cached"][f"{reads['cost_model_rate']:g}"]
    return {
        "all_at_once": reads["all_at_once"]["keys_per_query"].get(kind, 0.0),
        "staged": reads["staged"]["keys_per_query"].get(kind, 0.0),
        "cached": cached["keys_per_query"].get(kind, 0.0),
        "hit_rate": cached["hit_rate"],
        "round_trips": cached["round_trips_per_query"].get(kind, 0.0),
    }


def accuracy_rows(reads: dict[str, Any]) -> list[str]:
    """Markdown rows: per kind, median/p90 error and coverage, all at once vs staged."""
    rows = [
        "| query kind | keys all at once | keys staged | median m (at once → staged) | p90 m | inside radius |",
        "|---|---|---|---|---|---|",
    ]
    before, after = reads["accuracy"]["all_at_once"], reads["accuracy"]["staged"]
    rates = [(kind, before[kind], after[kind], reads["all_at_once"]["keys_per_query"][kind],
              reads["staged"]["keys_per_query"][kind]) for kind in sorted(before)]  # fmt: skip
    stream = reads["accuracy"].get("stream")
    if stream:
        cached = reads["cached"][f"{reads['cost_model_rate']:g}"]
        rates.append(
            (f"{reads['phone_kind']} stream, cached at {reads['cost_model_rate']:g}/s",
             stream["all_at_once"], stream["cached"], float("nan"),
             cached["keys_per_query"].get(reads["phone_kind"], 0.0))
        )  # fmt: skip
    for kind, a, b, keys_a, keys_b in rates:
        at_once = "–" if math.isnan(keys_a) else f"{keys_a:.1f}"
        if not a.get("answered") or not b.get("answered"):
            rows.append(f"| {kind} | {at_once} | {keys_b:.1f} | – | – | – |")
            continue
        rows.append(
            f"| {kind} | {at_once} | {keys_b:.1f} | {a['median_m']:.0f} → {b['median_m']:.0f} | "
            f"{a['p90_m']:.0f} → {b['p90_m']:.0f} | {a['coverage']:.1%} → {b['coverage']:.1%} |"
        )
    return rows
