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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openloc.cli",
                "run",
                "--port",
                str(port),
                "--data-dir",
                data_dir,
                "--no-scheduler",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert server.stdout is not None
            while "OpenLoc is running" not in server.stdout.readline():
                if server.poll() is not None:
                    raise SystemExit("openloc run failed to start")
            url = f"http://127.0.0.1:{port}"
            asyncio.run(_run_level(url, 1, 1.0))  # warm-up: first requests import and connect
            print("| concurrency | requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|")
            for level in args.concurrency:
                count, errors, latencies = asyncio.run(_run_level(url, level, args.seconds))
                latencies.sort()
                p50 = latencies[len(latencies) // 2]
                p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
                print(f"| {level} | {count / args.seconds:.0f} | {p50:.1f} | {p99:.1f} | {errors} |")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
