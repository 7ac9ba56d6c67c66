"""Throughput and write cost of the aggregation pipeline on in-memory stores (no emulator).

Run: `.venv/bin/python bench/aggregate_core.py`. A deterministic synthetic city (Wi-Fi access
points on a grid, LTE cells) is walked by stumblers; each report sees ~15 Wi-Fi networks and 2
cells, as real scans do. Prints:
1. observations/s of `openloc.ingest.pipeline.process_reports` for batches of 10 … 10 000 observations
   (one core; stores in memory, so this is the aggregation logic alone);
2. DynamoDB write requests, SQS requests and S3 PUTs per 1 000 observations in a steady state
   (the stations already exist), with and without the rate-control policy, and their price per
   million observations at public on-demand prices (listed below).
"""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta

from openloc.aggregate.station_update import UpdatePolicy
from openloc.ingest.pipeline import PipelineStores, process_reports
from openloc.model.kinds import Radio
from openloc.model.report import CellObservation, Report, WifiObservation
from openloc.store.coverage import MemoryCoverageStore
from openloc.store.queue import pack_messages
from openloc.store.stations import MemoryStationStore

# us-east-1 public on-demand prices used for the $ column
PRICE_WRITE_REQUEST = 0.625 / 1e6  # DynamoDB on-demand, per write request unit (item < 1 KB)
PRICE_READ_REQUEST = 0.125 / 1e6  # DynamoDB on-demand, per read request unit (eventually consistent: 2 items)
PRICE_SQS_REQUEST = 0.40 / 1e6  # SQS standard, per request (64 KB chunk)
PRICE_S3_PUT = 0.005 / 1000

CENTER = (47.3769, 8.5417)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def city(rng: random.Random, access_points: int = 4000) -> list[tuple[str, float, float]]:
    side = int(math.sqrt(access_points))
    return [
        (f"00{i:010x}", CENTER[0] + (i // side) * 0.0005, CENTER[1] + (i % side) * 0.0007)
        for i in range(access_points)
    ]


def reports(rng: random.Random, aps: list[tuple[str, float, float]], count: int) -> list[Report]:
    out = []
    for _ in range(count):
        mac, lat, lon = rng.choice(aps)
        lat += rng.gauss(0, 0.0003)
        lon += rng.gauss(0, 0.0003)
        near = [a for a in rng.sample(aps, 400) if abs(a[1] - lat) < 0.002 and abs(a[2] - lon) < 0.003][:15]
        near.append((mac, lat, lon))
        cells = tuple(
            CellObservation(radio=Radio.LTE, mcc=228, mnc="01", lac=100 + int((lat - CENTER[0]) * 50), cid=1000 + k + int((lon - CENTER[1]) * 300), signal=-90)
            for k in range(2)
        )  # fmt: skip
        out.append(
            Report(
                timestamp=1, latitude=lat, longitude=lon, accuracy=8.0, speed=1.5,
                wifi=tuple(WifiObservation(mac=m, signal=rng.randint(-90, -50)) for m, _, _ in {a[0]: a for a in near}.values()),
                cells=cells,
            )
        )  # fmt: skip
    return out


def observations(batch: list[Report]) -> int:
    return sum(len(r.wifi) + len(r.cells) for r in batch)


def stores() -> PipelineStores:
    return PipelineStores.in_memory()


def throughput_rows(targets: tuple[int, ...] = (10, 100, 1_000, 10_000)) -> list[tuple[int, int, float]]:
    """(observations per batch, reports, observations/s on one core) per batch size."""
    rng = random.Random(1)
    aps = city(rng)
    rows = []
    for target in targets:
        pool = reports(rng, aps, max(1, target // 17) * 3)
        batch: list[Report] = []
        for report in pool:
            if observations(batch) >= target:
                break
            batch.append(report)
        store = stores()
        process_reports(batch, store, NOW, message_id="warm")  # stations exist: steady state
        repeats = max(1, 20_000 // max(observations(batch), 1))
        start = time.perf_counter()
        for i in range(repeats):
            process_reports(
                batch,
                store,
                NOW + timedelta(seconds=i),
                message_id=f"m{i}",
                policy=UpdatePolicy(settle_seconds=0),
            )
        elapsed = time.perf_counter() - start
        rows.append((observations(batch), len(batch), observations(batch) * repeats / elapsed))
    return rows


def throughput() -> None:
    print("| observations per batch | reports | obs/s (one core) |\n|---|---|---|")
    for obs, count, rate in throughput_rows():
        print(f"| {obs} | {count} | {rate:,.0f} |")


def write_cost_rows() -> list[dict[str, float | str]]:
    """Requests per 1 000 observations and $ per million observations, per update policy."""
    rng = random.Random(2)
    aps = city(rng, 900)  # a well-mapped district: ~170 samples per access point after day one
    day_one = reports(rng, aps, 10_000)
    rows: list[dict[str, float | str]] = []
    for name, policy in (
        ("merge every observation", UpdatePolicy(settle_seconds=0)),
        ("rate control (default)", UpdatePolicy()),
    ):
        store = stores()
        for i in range(0, len(day_one), 100):  # the city is mapped once
            process_reports(day_one[i : i + 100], store, NOW, message_id=f"seed{i}", policy=policy)
        assert isinstance(store.stations, MemoryStationStore) and isinstance(
            store.coverage, MemoryCoverageStore
        )
        writes_before = store.stations.write_requests + store.coverage.write_requests
        later = reports(rng, aps, 3000)
        messages = 0
        for i in range(0, len(later), 100):
            chunk = later[i : i + 100]
            messages += len(
                list(pack_messages([r.model_dump(mode="json", exclude_none=True) for r in chunk]))
            )
            process_reports(chunk, store, NOW + timedelta(hours=2), message_id=f"later{i}", policy=policy)
        obs = observations(later)
        writes = store.stations.write_requests + store.coverage.write_requests - writes_before
        # processed-marker put + get per message
        writes += messages
        station_reads = (
            sum(len(r.wifi) + len(r.cells) for r in later) / 2
        )  # ≤ 1 KB items, eventually consistent
        reads = station_reads + messages
        sqs = messages / 10 + messages * 2  # SendMessageBatch of 10, receive (batch) + delete per message
        puts = messages  # one archive object per message
        per_k = 1000 / obs
        dollars = (
            (
                writes * PRICE_WRITE_REQUEST
                + reads * PRICE_READ_REQUEST
                + sqs * PRICE_SQS_REQUEST
                + puts * PRICE_S3_PUT
            )
            / obs
            * 1e6
        )
        rows.append(
            {"policy": name, "writes": writes * per_k, "reads": reads * per_k, "sqs": sqs * per_k,
             "s3_puts": puts * per_k, "dollars_per_million": dollars}
        )  # fmt: skip
    return rows


def write_cost() -> None:
    print(
        "\n| policy | DynamoDB writes / 1 000 obs | reads / 1 000 obs | SQS requests / 1 000 obs | S3 PUTs / 1 000 obs | $ per million obs |\n|---|---|---|---|---|---|"
    )
    for row in write_cost_rows():
        print(
            f"| {row['policy']} | {row['writes']:.0f} | {row['reads']:.0f} | {row['sqs']:.1f} | {row['s3_puts']:.1f} | {row['dollars_per_million']:.2f} |"
        )


if __name__ == "__main__":
    throughput()
    write_cost()
