"""Cold import of each Lambda handler, side by side with `python -c "import boto3"`.

Run: `.venv/bin/python bench/import_time.py [--runs N]`. Each round starts one fresh interpreter
per probe, in an interleaved order (boto3, locate, submit, aggregate, export, then the next round),
and times the whole process from the parent: interpreter start-up, imports and the handler
module's own init, exactly what a Lambda cold start without SnapStart pays before the first
request. The probes share the machine's load at the same moment, so their ratio is stable where
the absolute milliseconds are not. Reported: median and max per probe, and each handler's median
as a multiple of boto3's (target for locate and submit: ≤ 1.0×).

Bytecode as deployed: boto3 comes precompiled (in the venv as in the Lambda runtime), and the
service layer ships `.pyc` files of the modules the API functions import first (infra/packaging.py,
`precompile`); so the probes may write and read `__pycache__` (PYTHONDONTWRITEBYTECODE is
cleared for them) and an unmeasured first round writes it.

A second figure, `first_request_ms`, times the import plus one `/v1/geolocate` (locate) or
`/v2/geosubmit` (submit) through the handler with in-memory stores: the work a cold start without
SnapStart does before answering (the pydantic validators are built on first use; SnapStart's
before-snapshot hook does that, `openloc.api.services.warm_up`). The five most expensive
third-party imports of the locate handler come from `python -X importtime`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = ("locate", "submit", "aggregate", "export")
BASELINE = "boto3"
ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
IMPORT = "import sys; sys.path.insert(0, {path!r}); import handler"
# A first request through the handler, with the stores swapped for their in-memory twins before
# the request (the handler module builds its services from the environment at import).
FIRST_REQUEST = IMPORT + "\nfrom bench.import_time import first_request\nfirst_request(handler, {name!r})"


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT / "layers"), str(ROOT)])
    environment = {**os.environ, **ENV, "PYTHONPATH": path}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def _run(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=_env(), check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000


def probe(name: str) -> str:
    """The `python -c` code of one probe: the baseline or a handler import."""
    if name == BASELINE:
        return "import boto3"
    return IMPORT.format(path=str(ROOT / "functions" / name))


def measure_side_by_side(runs: int, handlers: tuple[str, ...] = HANDLERS) -> dict[str, list[float]]:
    """Whole-process milliseconds of every probe, `runs` interleaved rounds."""
    times: dict[str, list[float]] = {name: [] for name in (BASELINE, *handlers)}
    for name in times:  # writes the bytecode caches: not measured
        _run(probe(name))
    for _ in range(runs):
        for name, samples in times.items():
            samples.append(_run(probe(name)))
    return times


def first_request(handler: Any, name: str) -> None:
    """One request through the imported handler module (in-memory stores; see module doc)."""
    from mangum import Mangum
    from openloc.api.app import build_app
    from openloc.api.services import Services
    from openloc.ingest.demo_seed import seed_demo
    from openloc.settings import get_settings
    from openloc.store.api_keys import MemoryApiKeyStore
    from openloc.store.queue import MemoryObservationQueue
    from openloc.store.stations import MemoryStationStore

    stations, keys = MemoryStationStore(), MemoryApiKeyStore()
    seed_demo(stations, keys)
    services = Services(
        settings=get_settings(),
        stations=stations,
        api_keys=keys,
        queue=MemoryObservationQueue(),
        redis=lambda: None,
        database_ping=lambda: None,
    )
    handler.asgi = Mangum(
        build_app(services, locate=name == "locate", submit=name == "submit"), lifespan="off"
    )
    example = "geolocate-wifi.json" if name == "locate" else "geosubmit-v2.json"
    path = "/v1/geolocate" if name == "locate" else "/v2/geosubmit"
    body = (ROOT / "docs" / "examples" / example).read_text(encoding="utf-8")
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "key=test",
        "headers": {"content-type": "application/json", "host": "bench.local"},
        "requestContext": {
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "bench"},
            "requestId": "bench",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }  # fmt: skip
    response = handler.handler(event, _Context())
    if response["statusCode"] >= 500:
        raise SystemExit(f"first request failed: {response}")


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench"
    function_version = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def measure_first_request(name: str, runs: int) -> list[float]:
    code = FIRST_REQUEST.format(path=str(ROOT / "functions" / name), name=name)
    _run(code)  # bytecode caches, not measured
    return [_run(code) for _ in range(runs)]


def summary(runs: int, handlers: tuple[str, ...] = HANDLERS) -> dict[str, Any]:
    """The `imports` section of `make bench`: per probe median/max ms, ratio to boto3."""
    times = measure_side_by_side(runs, handlers)
    baseline = statistics.median(times[BASELINE])
    out: dict[str, Any] = {"runs": runs, BASELINE: {"median_ms": baseline, "max_ms": max(times[BASELINE])}}
    for name in handlers:
        median = statistics.median(times[name])
        out[name] = {"median_ms": median, "max_ms": max(times[name]), "ratio": median / baseline}
    for name in ("locate", "submit"):
        if name in handlers:
            first = statistics.median(measure_first_request(name, runs))
            out[name]["first_request_ms"] = first
            out[name]["first_request_ratio"] = first / baseline
    return out


def top_imports(name: str, count: int = 5) -> list[tuple[str, int]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe(name)],
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    by_package: dict[str, int] = {}
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        if package not in {"handler", "openloc"}:
            by_package[package] = max(by_package.get(package, 0), int(parts[1]) // 1000)
    return sorted(by_package.items(), key=lambda row: -row[1])[:count]


def table(result: dict[str, Any]) -> list[str]:
    lines = [
        "| process | median ms | max ms | × `import boto3` | import + first request ms (×) |",
        "|---|---|---|---|---|",
        f'| `python -c "import boto3"` | {result[BASELINE]["median_ms"]:.0f} | {result[BASELINE]["max_ms"]:.0f} | 1.00 | |',
    ]
    for name in HANDLERS:
        row = result.get(name)
        if row is None:
            continue
        first = (
            f"{row['first_request_ms']:.0f} ({row['first_request_ratio']:.2f}×)"
            if "first_request_ms" in row
            else ""
        )
        lines.append(
            f"| {name} handler | {row['median_ms']:.0f} | {row['max_ms']:.0f} | {row['ratio']:.2f} | {first} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print("\n".join(table(summary(args.runs))))
    print("\nMost expensive third-party packages in the locate handler (cumulative ms):\n")
    for module, ms in top_imports("locate"):
        print(f"- `{module}`: {ms}")


if __name__ == "__main__":
    main()
