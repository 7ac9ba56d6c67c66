"""End-to-end HTTP latency and throughput of geolocate on the local stack (127.0.0.1 only).

Run: `.venv/bin/python bench/http_load.py [--seconds S] [--concurrency 1 8 32]`. Starts
`openloc run` in a subprocess on a free port with a throw-away data dir (demo seed), then for
each concurrency level keeps that many requests in flight for S seconds (bounded: it stops by
itself) and prints requests/s, p50/p99 latency and the error count as a Markdown table.
Every request goes the deployed code path: API Gateway-style event → Mangum → app → moto.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import subprocess
import sys
import tempfile
import time
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


def measure_levels(levels: list[int], seconds: float) -> list[dict[str, Any]]:
    """Start `openloc run` on a free port, then per concurrency level: requests/s, p50/p99 ms,
    errors and the latency samples (ms)."""
    port = _free_port()
    rows: list[dict[str, Any]] = []
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
            while "OpenLoc is running" not in server.stdout.readline():
                if server.poll() is not None:
                    raise SystemExit("openloc run failed to start")
            url = f"http://127.0.0.1:{port}"
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
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    print("| concurrency | requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|")
    for row in measure_levels(args.concurrency, args.seconds):
        print(
            f"| {row['concurrency']} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} |"
        )


if __name__ == "__main__":
    main()
