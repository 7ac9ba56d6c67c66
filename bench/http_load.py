"""End-to-end HTTP load on the local stack (127.0.0.1 only): geolocate alone, or mixed traffic.

Run: `.venv/bin/python bench/http_load.py [--seconds S] [--concurrency 1 8 32]`. Starts
`openloc run` in a subprocess on a free port with a throw-away data dir (demo seed), then for
each concurrency level keeps that many requests in flight for S seconds (bounded: it stops by
itself) and prints requests/s, p50/p99 latency and the error count as a Markdown table.
Every request goes the deployed code path: API Gateway-style event → Mangum → app → moto.

`--mixed` runs one level of mixed traffic instead (`--concurrency` first value, default 16):
geolocate with the demo key, geosubmit of 5 reports each (`--submit-share`, default 0.2) and
geolocate with a key limited to `--limited-maxreq` requests a day (`--limited-share`, default
0.05), whose 403 dailyLimitExceeded answers are intended. It samples the observation queue's
depth every second while the load runs, then waits for the aggregator (the stack's SQS poller)
to drain it, and prints throughput, p50/p99 per kind, the status counts, unintended errors and
how long the queue took to drain.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BODY = {
    "wifiAccessPoints": [
        {"macAddress": "00:1a:2b:00:00:00", "signalStrength": -55},
        {"macAddress": "00:1a:2b:00:00:01", "signalStrength": -65},
        {"macAddress": "00:1a:2b:00:00:08", "signalStrength": -70},
        {"macAddress": "00:1a:2b:00:00:09", "signalStrength": -75},
    ]
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _run_level(url: str, concurrency: int, seconds: float) -> tuple[int, int, list[float]]:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                start = time.perf_counter()
                response = await client.post("/v1/geolocate?key=test", json=BODY)
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), errors, latencies


LIMITED_KEY = "bench-limited"
CENTER = (52.5219, 13.4132)
SPOTS = 1_000


@dataclass
class MixedResult:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    unintended: int = 0
    reports_accepted: int = 0
    depth_samples: list[int] = field(default_factory=list)


def _submission(rng: random.Random, reports: int) -> dict[str, Any]:
    now = int(time.time() * 1000)
    items = []
    for _ in range(reports):
        spot = rng.randrange(SPOTS)  # a place with three access points; places repeat across reports
        lat = CENTER[0] + (spot // 40) * 0.0005 + rng.uniform(-0.0001, 0.0001)
        lon = CENTER[1] + (spot % 40) * 0.0005 + rng.uniform(-0.0001, 0.0001)
        macs = [f"00:5f:00:00:{(spot * 3 + k) >> 8:02x}:{(spot * 3 + k) & 255:02x}" for k in range(3)]
        items.append({
            "timestamp": now - rng.randrange(60_000),
            "position": {"latitude": lat, "longitude": lon, "accuracy": 10.0},
            "wifiAccessPoints": [{"macAddress": m, "signalStrength": -50 - rng.randrange(40)} for m in macs],
        })  # fmt: skip
    return {"items": items}


def _aws(moto_url: str, service: str) -> Any:
    import boto3

    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _queue_depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


async def _run_mixed(url: str, args: argparse.Namespace, sqs: Any, queue_url: str) -> MixedResult:
    result = MixedResult()
    rng = random.Random(7)
    deadline = time.monotonic() + args.seconds
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                draw = rng.random()
                if draw < args.submit_share:
                    kind, path, body = "submit", "/v2/geosubmit?key=test", _submission(rng, args.reports)
                elif draw < args.submit_share + args.limited_share:
                    kind, path, body = "limited", f"/v1/geolocate?key={LIMITED_KEY}", BODY
                else:
                    kind, path, body = "locate", "/v1/geolocate?key=test", BODY
                start = time.perf_counter()
                response = await client.post(path, json=body)
                result.latencies.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
                result.statuses[(kind, response.status_code)] += 1
                intended = response.status_code == 403 and kind == "limited"
                if response.status_code >= 400 and not intended:
                    result.unintended += 1
                if kind == "submit" and response.status_code == 200:
                    result.reports_accepted += args.reports

        async def sampler() -> None:
            while time.monotonic() < deadline:
                result.depth_samples.append(await asyncio.to_thread(_queue_depth, sqs, queue_url))
                await asyncio.sleep(1.0)

        await asyncio.gather(sampler(), *(worker() for _ in range(args.concurrency[0])))
    return result


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)] if ordered else float("nan")


def _mixed(url: str, moto_url: str, args: argparse.Namespace) -> None:
    sqs = _aws(moto_url, "sqs")
    queue_url = sqs.get_queue_url(QueueName="openloc-observations")["QueueUrl"]
    _aws(moto_url, "dynamodb").put_item(
        TableName="openloc-api-keys",
        Item={"key": {"S": LIMITED_KEY}, "maxreq": {"N": str(args.limited_maxreq)},
              "allow_locate": {"BOOL": True}, "allow_region": {"BOOL": True}},
    )  # fmt: skip
    asyncio.run(_run_level(url, 1, 1.0))  # warm-up
    result = asyncio.run(_run_mixed(url, args, sqs, queue_url))
    drain_start = time.monotonic()
    depth = _queue_depth(sqs, queue_url)
    while depth > 0 and time.monotonic() - drain_start < args.drain_timeout:
        time.sleep(0.5)
        depth = _queue_depth(sqs, queue_url)
    drained = time.monotonic() - drain_start
    total = sum(result.statuses.values())
    print(f"mixed load: {args.concurrency[0]} in flight for {args.seconds:.0f} s, {total} requests, "
          f"{total / args.seconds:.0f} requests/s")  # fmt: skip
    print("\n| kind | requests | requests/s | p50 ms | p99 ms | statuses |\n|---|---|---|---|---|---|")
    for kind, latencies in sorted(result.latencies.items()):
        statuses = ", ".join(f"{s}: {n}" for (k, s), n in sorted(result.statuses.items()) if k == kind)
        print(f"| {kind} | {len(latencies)} | {len(latencies) / args.seconds:.1f} | "
              f"{_percentile(latencies, 0.5):.1f} | {_percentile(latencies, 0.99):.1f} | {statuses} |")  # fmt: skip
    print(f"\nunintended errors: {result.unintended} ({result.unintended / max(total, 1):.2%})")
    print(f"reports accepted: {result.reports_accepted} "
          f"({result.reports_accepted / args.seconds:.1f}/s)")  # fmt: skip
    samples = result.depth_samples
    print(f"queue depth during the load (messages, sampled every second): max {max(samples, default=0)}, "
          f"last {samples[-1] if samples else 0}")  # fmt: skip
    state = "drained" if depth == 0 else f"NOT drained ({depth} left)"
    print(f"queue {state} {drained:.1f} s after the load ended")


@contextmanager
def local_stack() -> Iterator[tuple[str, str]]:
    """`openloc run` on a free port with a throw-away data dir: yields (API URL, moto URL)."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [sys.executable, "-m", "openloc.cli", "run", "--port", str(port), "--data-dir", data_dir, "--no-scheduler"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            moto_url = ""
            while not moto_url:
                line = server.stdout.readline()
                if server.poll() is not None:
                    raise SystemExit("openloc run failed to start")
                found = re.search(r"AWS APIs \(moto\): (\S+)", line)
                moto_url = found.group(1) if found else ""
            # keep reading the server's log lines (one per submission), or its pipe fills and it blocks
            threading.Thread(target=lambda: [None for _ in server.stdout or ()], daemon=True).start()
            yield f"http://127.0.0.1:{port}", moto_url
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)


def measure_levels(levels: list[int], seconds: float) -> list[dict[str, Any]]:
    """Start `openloc run` on a free port, then per concurrency level: requests/s, p50/p99 ms,
    errors and the latency samples (ms)."""
    rows: list[dict[str, Any]] = []
    with local_stack() as (url, _moto_url):
        asyncio.run(_run_level(url, 1, 1.0))  # warm-up: first requests import and connect
        for level in levels:
            count, errors, latencies = asyncio.run(_run_level(url, level, seconds))
            latencies.sort()
            rows.append(
                {
                    "concurrency": level,
                    "rps": count / seconds,
                    "p50_ms": latencies[len(latencies) // 2],
                    "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)],
                    "errors": errors,
                    "samples": latencies,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=None)
    parser.add_argument("--mixed", action="store_true", help="mixed locate/submit traffic (see above)")
    parser.add_argument("--submit-share", type=float, default=0.2)
    parser.add_argument("--limited-share", type=float, default=0.05)
    parser.add_argument("--limited-maxreq", type=int, default=20)
    parser.add_argument("--reports", type=int, default=5, help="reports per submission")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    args = parser.parse_args()
    if args.mixed:
        args.concurrency = args.concurrency or [16]
        with local_stack() as (url, moto_url):
            _mixed(url, moto_url, args)
        return
    print("| concurrency | requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|")
    for row in measure_levels(args.concurrency or [1, 8, 32], args.seconds):
        print(
            f"| {row['concurrency']} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} |"
        )


if __name__ == "__main__":
    main()
