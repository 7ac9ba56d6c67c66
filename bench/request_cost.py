"""Cost of one request: the largest and the most pathological bodies each endpoint accepts, and the
bombs it refuses, each measured in a fresh interpreter that imports the Lambda handler like Lambda.

Run: `.venv/bin/python -m bench.request_cost [--only SUBSTRING]` prints a Markdown table; `make
bench` runs it as its `request_cost` section (docs/benchmarks.md, "Cost of one request").

Each case runs in its own subprocess, which

1. starts an in-process moto (the submit function's SQS queue: the real boto3 client path) and
   imports `functions/<name>/handler.py` as Lambda does (settings, the ASGI app, Mangum);
   DynamoDB-backed stores are swapped for their in-memory twins (demo stations, a key `bench`
   allowed to transfer), so no emulator's CPU is counted as the function's;
2. answers one small warm-up request (lazy imports, clients), then takes the **baseline**: the
   resident set size (VmRSS) with everything imported and warm;
3. builds the API Gateway (HTTP API, payload v2) event of the case as JSON text, resets the
   kernel's peak-RSS mark (`/proc/self/clear_refs`), and, like the Lambda runtime, parses the
   event and calls the handler;
4. reports the answer, the **peak** RSS during the request (VmHWM), and the CPU time of the
   process (all threads) for the request.

A case whose event would exceed Lambda's 6 MiB invocation payload is not run: API Gateway/Lambda
refuse it before the function starts (the local stack's emulation answers the same).
Linux only (/proc). Numbers vary with the machine and its load; tests never assert them.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
TARGET_MB = 128  # no accepted body may cost more (over the baseline)
TARGET_CPU_MS = 2000
ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "OpenLoc",
    "POWERTOOLS_SERVICE_NAME": "openloc",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "REDIS_URL": "",
    "GEOIP_PATH": "",
}
RESULT = "REQUEST-COST "


@dataclass(frozen=True)
class Case:
    name: str
    function: str  # locate | submit
    path: str  # with the query string
    kind: str  # largest | pathological | bomb
    build: Callable[[], tuple[bytes, dict[str, str]]]  # → body, extra headers
    expect: int


# --- bodies ---------------------------------------------------------------------------------------


def _now_ms() -> int:
    return int(time.time() * 1000)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _gz(data: bytes, level: int = 6) -> tuple[bytes, dict[str, str]]:
    return gzip.compress(data, compresslevel=level, mtime=0), {"content-encoding": "gzip"}


def _plain(data: bytes) -> tuple[bytes, dict[str, str]]:
    return data, {"content-type": "application/json"}


def _settings() -> Any:
    from openloc.settings import Settings

    return Settings()


def _batch(reports: int) -> dict[str, Any]:
    from bench.world.batch import stumbler_batch

    return stumbler_batch(_now_ms(), reports)


def _v1(item: dict[str, Any]) -> dict[str, Any]:
    """A v2 item in the flat /v1/geosubmit form."""
    flat = {k: v for k, v in item.items() if k != "position"}
    return {**flat, **item["position"]}


def _legacy(item: dict[str, Any]) -> dict[str, Any]:
    """A v2 item in the legacy /v1/submit form."""
    p = item["position"]
    return {
        "lat": p["latitude"], "lon": p["longitude"], "accuracy": p["accuracy"],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(item["timestamp"] / 1000)),
        "wifi": [{"key": w["macAddress"], "signal": w["signalStrength"], "frequency": w["frequency"]}
                 for w in item["wifiAccessPoints"]],
        "cell": [{"radio": "lte", "mcc": c["mobileCountryCode"], "mnc": c["mobileNetworkCode"],
                  "lac": c["locationAreaCode"], "cid": c["cellId"], "signal": c["signalStrength"]}
                 for c in item["cellTowers"]],
    }  # fmt: skip


def full_upload() -> tuple[bytes, dict[str, str]]:
    return _gz(_json(_batch(2_000)))


def verbose_upload() -> tuple[bytes, dict[str, str]]:
    from bench.world.batch import verbose_batch

    return _gz(_json(verbose_batch(_now_ms())))


def max_items(form: str = "v2") -> Callable[[], tuple[bytes, dict[str, str]]]:
    def build() -> tuple[bytes, dict[str, str]]:
        items = _batch(_settings().submit_max_items)["items"]
        if form == "v1":
            items = [_v1(i) for i in items]
        elif form == "legacy":
            items = [_legacy(i) for i in items]
        return _gz(_json({"items": items}))

    return build


def largest_compressed() -> tuple[bytes, dict[str, str]]:
    """A full upload padded to exactly SUBMIT_BODY_LIMIT bytes of gzip (stored, not compressed)."""
    limit = _settings().submit_body_limit
    body = _batch(2_000)
    base = len(gzip.compress(_json({**body, "padding": ""}), compresslevel=0, mtime=0))
    pad = limit - base
    while True:  # a stored block adds 5 bytes per 64 KiB: converge on the exact size
        data = gzip.compress(_json({**body, "padding": "x" * pad}), compresslevel=0, mtime=0)
        if len(data) == limit:
            return data, {"content-encoding": "gzip"}
        pad += limit - len(data)


def over_body_limit() -> tuple[bytes, dict[str, str]]:
    data, headers = largest_compressed()
    return data + b"\0", headers


def empty_items() -> tuple[bytes, dict[str, str]]:
    return _gz(_json({"items": [{}] * _settings().submit_max_items}))


def too_many_items() -> tuple[bytes, dict[str, str]]:
    return _gz(_json({"items": [{}] * (_settings().submit_max_items + 1)}))


def bare_wifi(extra: int = 0) -> Callable[[], tuple[bytes, dict[str, str]]]:
    """SUBMIT_MAX_ENTRIES (+ extra) Wi-Fi entries of a MAC only, 500 to a report (all kept): the
    most observations a body can make the function hold."""

    def build() -> tuple[bytes, dict[str, str]]:
        total = _settings().submit_max_entries + extra
        macs = [f"001a2c{i:06x}" for i in range(total)]
        items = [{"position": {"latitude": 52.5, "longitude": 13.4},
                  "wifiAccessPoints": [{"macAddress": m} for m in macs[start : start + 500]]}
                 for start in range(0, total, 500)]  # fmt: skip
        return _gz(_json({"items": items}))

    return build


def many_wifi_in_one_report() -> tuple[bytes, dict[str, str]]:
    item = _batch(1)["items"][0]
    item["wifiAccessPoints"] = [
        {"macAddress": f"00:1a:2c:{i >> 16:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}", "signalStrength": -70}
        for i in range(100_000)
    ]
    return _gz(_json({"items": [item]}))


def wrong_types_everywhere() -> tuple[bytes, dict[str, str]]:
    """Every field of every entry of the wrong type, as many as the value and entry caps admit: the
    most validation errors a body can cause."""
    settings = _settings()
    wifi = {"macAddress": 1, "age": "x", "channel": "x", "frequency": "x", "signalStrength": "x",
            "signalToNoiseRatio": "x", "ssid": 1, "radioType": 1}  # fmt: skip
    per_item = min(
        1 + (settings.submit_max_json_values // len(wifi)) // settings.submit_max_items,
        settings.submit_max_entries // settings.submit_max_items,
    )
    item = _json({"position": {"latitude": "x", "longitude": "x"}, "wifiAccessPoints": [wifi] * per_item})
    values = item.count(b"{") + item.count(b"[") + item.count(b",") + 1
    count = min(settings.submit_max_items, (settings.submit_max_json_values - 10) // values)
    return _gz(b'{"items":[' + b",".join([item] * count) + b"]}")


def distinct_keys() -> tuple[bytes, dict[str, str]]:
    """One report with as many distinct unknown fields as the value cap admits (json.loads' worst)."""
    count = _settings().submit_max_json_values - 100
    item = b"{" + b",".join(b'"%x":0' % i for i in range(count)) + b"}"
    return _gz(b'{"items":[' + item + b"]}")


def huge_ssids() -> tuple[bytes, dict[str, str]]:
    """A report whose two SSIDs fill the decompressed limit with 4-byte characters: the report is
    larger than a queue message, so it is dropped (report_size)."""
    chars = (_settings().submit_decompressed_limit - 4000) // 8
    item = _batch(1)["items"][0]
    for wifi in item["wifiAccessPoints"][:2]:
        wifi["ssid"] = "\U0001f4e1" * chars
    return _gz(json.dumps({"items": [item]}, ensure_ascii=False).encode())


def deep_nesting() -> tuple[bytes, dict[str, str]]:
    return _gz(b'{"items":' + b"[" * 200_000 + b"]" * 200_000 + b"}")


def tiny_bomb(
    element: bytes, count: int = 10**6, key: bytes = b"items"
) -> Callable[[], tuple[bytes, dict[str, str]]]:
    def build() -> tuple[bytes, dict[str, str]]:
        return _gz(b'{"' + key + b'":[' + b",".join([element] * count) + b"]}", level=9)

    return build


def zeros_bomb() -> tuple[bytes, dict[str, str]]:
    return _gz(b"\0" * (128 * MIB), level=9)


def empty_members() -> tuple[bytes, dict[str, str]]:
    return gzip.compress(b"", mtime=0) * 100_000, {"content-encoding": "gzip"}


def _demo_wifi(count: int) -> list[dict[str, Any]]:
    from openloc.ingest.demo_seed import WIFI_PREFIX, demo_mac

    macs = [demo_mac(WIFI_PREFIX, i % 40) for i in range(40)] + [f"0200{i:08x}" for i in range(count)]
    return [{"macAddress": mac, "signalStrength": -60 - i % 30} for i, mac in enumerate(macs[:count])]


def locate_largest() -> tuple[bytes, dict[str, str]]:
    """The most Wi-Fi networks (demo networks first) that fit 64 KiB."""
    count = 1
    while len(_json({"wifiAccessPoints": _demo_wifi(count + 50)})) < 64 * 1024:
        count += 50
    return _plain(_json({"wifiAccessPoints": _demo_wifi(count)}))


def locate_fill(
    element: bytes, key: bytes = b"wifiAccessPoints"
) -> Callable[[], tuple[bytes, dict[str, str]]]:
    def build() -> tuple[bytes, dict[str, str]]:
        count = (64 * 1024 - 40) // (len(element) + 1)
        return _plain(b'{"' + key + b'":[' + b",".join([element] * count) + b"]}")

    return build


def locate_keys() -> tuple[bytes, dict[str, str]]:
    count = (64 * 1024 - 20) // 10
    return _plain(b"{" + b",".join(b'"%05x":0' % i for i in range(count)) + b"}")


def search_largest() -> tuple[bytes, dict[str, str]]:
    wifi = [{"key": w["macAddress"], "signal": w["signalStrength"]} for w in _demo_wifi(1500)]
    while len(_json({"wifi": wifi})) > 64 * 1024:
        wifi.pop()
    return _plain(_json({"wifi": wifi}))


def transfer_items(count: int, valid: bool = True) -> Callable[[], tuple[bytes, dict[str, str]]]:
    def build() -> tuple[bytes, dict[str, str]]:
        now = int(time.time())
        cells = [
            {"radio": "LTE", "mcc": 262, "net": "01", "area": 4711, "cell": 1000 + i, "unit": i % 500,
             "lat": 52.5 + i * 1e-4, "lon": 13.4, "range": 700, "samples": 40, "created": now - 86400, "updated": now}
            for i in range(count)
        ]  # fmt: skip
        if not valid:
            cells = [dict.fromkeys(cell, "x") for cell in cells]
        return _gz(_json({"batch": f"bench-{count}-{valid}-{now}", "cells": cells}))

    return build


SUBMIT = "/v2/geosubmit"
LOCATE = "/v1/geolocate?key=bench"
TRANSFER = "/v1/transfer?key=bench"
# fmt: off
CASES = [
    Case("full upload: 2 000 reports (15 Wi-Fi + 1 LTE each), gzip", "submit", SUBMIT, "largest", full_upload, 200),
    Case("full upload, most verbose form: 2 000 reports (20 Wi-Fi with SSIDs + 3 cells, every field)", "submit", SUBMIT, "largest", verbose_upload, 200),
    Case("SUBMIT_MAX_ITEMS reports of the same shape, gzip", "submit", SUBMIT, "largest", max_items(), 200),
    Case("SUBMIT_MAX_ITEMS reports, /v1/geosubmit form", "submit", "/v1/geosubmit", "largest", max_items("v1"), 200),
    Case("SUBMIT_MAX_ITEMS reports, /v1/submit form", "submit", "/v1/submit", "largest", max_items("legacy"), 204),
    Case("SUBMIT_BODY_LIMIT bytes of gzip (a full upload, padded, stored)", "submit", SUBMIT, "largest", largest_compressed, 200),
    Case("SUBMIT_MAX_ENTRIES bare Wi-Fi entries, 500 per report", "submit", SUBMIT, "pathological", bare_wifi(), 200),
    Case("SUBMIT_MAX_ITEMS empty items", "submit", SUBMIT, "pathological", empty_items, 200),
    Case("one report with 100 000 Wi-Fi networks", "submit", SUBMIT, "pathological", many_wifi_in_one_report, 200),
    Case("every entry field of the wrong type, up to the caps", "submit", SUBMIT, "pathological", wrong_types_everywhere, 200),
    Case("one report with as many distinct unknown fields as SUBMIT_MAX_JSON_VALUES admits", "submit", SUBMIT, "pathological", distinct_keys, 200),
    Case("two SSIDs filling SUBMIT_DECOMPRESSED_LIMIT (report > a queue message)", "submit", SUBMIT, "pathological", huge_ssids, 200),
    Case("200 000 nested arrays", "submit", SUBMIT, "pathological", deep_nesting, 400),
    Case("`{}` × 10⁶ (the reported 3 KB body)", "submit", SUBMIT, "bomb", tiny_bomb(b"{}"), 413),
    Case("`[]` × 10⁶", "submit", SUBMIT, "bomb", tiny_bomb(b"[]"), 413),
    Case("`1,1,1,…` × 10⁶", "submit", SUBMIT, "bomb", tiny_bomb(b"1"), 413),
    Case('`""` × 10⁶', "submit", SUBMIT, "bomb", tiny_bomb(b'""'), 413),
    Case("SUBMIT_MAX_ITEMS + 1 items", "submit", SUBMIT, "bomb", too_many_items, 413),
    Case("SUBMIT_MAX_ENTRIES + 1 entries", "submit", SUBMIT, "bomb", bare_wifi(1), 413),
    Case("128 MiB of zeros, gzip", "submit", SUBMIT, "bomb", zeros_bomb, 413),
    Case("100 000 empty gzip members", "submit", SUBMIT, "bomb", empty_members, 413),
    Case("SUBMIT_BODY_LIMIT + 1 bytes", "submit", SUBMIT, "bomb", over_body_limit, 413),
    Case("64 KiB of Wi-Fi networks (~900)", "locate", LOCATE, "largest", locate_largest, 200),
    Case("64 KiB of `{}` Wi-Fi entries", "locate", LOCATE, "pathological", locate_fill(b"{}"), 404),
    Case("64 KiB of wrongly typed Wi-Fi entries", "locate", LOCATE, "pathological",
         locate_fill(b'{"macAddress":1,"signalStrength":"x","age":"x"}'), 404),
    Case("64 KiB of distinct unknown fields", "locate", LOCATE, "pathological", locate_keys, 404),
    Case("64 KiB of legacy Wi-Fi (/v1/search)", "locate", "/v1/search?key=bench", "largest", search_largest, 200),
    Case("`{}` × 10⁶ (gzip)", "locate", LOCATE, "bomb", tiny_bomb(b"{}", key=b"wifiAccessPoints"), 413),
    Case("100 000 empty gzip members", "locate", LOCATE, "bomb", empty_members, 413),
    Case("TRANSFER_MAX_ITEMS cells", "submit", TRANSFER, "largest", transfer_items(500), 200),
    Case("TRANSFER_MAX_ITEMS cells, every field invalid", "submit", TRANSFER, "pathological", transfer_items(500, valid=False), 400),
    Case("TRANSFER_MAX_ITEMS + 1 cells", "submit", TRANSFER, "bomb", transfer_items(501), 413),
    Case("`{}` × 10⁶ (gzip)", "submit", TRANSFER, "bomb", tiny_bomb(b"{}", key=b"cells"), 413),
]
# fmt: on
TINY_CASES = (0, 13, 23)  # `--profile tiny` of the runner: one of each kind


# --- the measured child ---------------------------------------------------------------------------


def _status(field: str) -> int:
    """A /proc/self/status size in bytes (VmRSS: now; VmHWM: the peak since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _load_handler(function: str) -> Any:
    import importlib.util

    path = ROOT / "functions" / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"openloc_function_{function}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _in_memory(services: Any) -> None:
    from openloc.ingest.demo_seed import seed_demo
    from openloc.model.records import ApiKeyRecord
    from openloc.store.api_keys import MemoryApiKeyStore
    from openloc.store.processed import MemoryProcessedMessages
    from openloc.store.stations import MemoryStationStore

    services.stations = MemoryStationStore()
    services.api_keys = MemoryApiKeyStore(ApiKeyRecord(key="bench", allow_transfer=True))
    services.processed = MemoryProcessedMessages()
    seed_demo(services.stations, services.api_keys)
    services.__post_init__()  # the key checker and the lookup over the new stores


def _warm_up(case: Case) -> tuple[str, str, bytes, dict[str, str]]:
    """A small valid request to the case's endpoint (its lazy imports and clients)."""
    if case.function == "locate":
        return "POST", case.path, _json({"wifiAccessPoints": _demo_wifi(3)}), {}
    if case.path.startswith("/v1/transfer"):
        return ("POST", case.path, *transfer_items(1)())
    return "POST", case.path, _json(_batch(2)), {}


def _invoke(
    module: Any, function: str, method: str, target: str, body: bytes, headers: dict[str, str]
) -> Any:
    from openloc.local.functions import invoke
    from openloc.local.lambda_proxy import api_gateway_event

    path, _, query = target.partition("?")
    event = api_gateway_event(method, path, query, {"host": "bench", **headers}, body, "203.0.113.7")
    return invoke(module.handler, function, event)


def child(index: int) -> dict[str, Any]:
    os.environ.update(ENV)
    case = CASES[index]
    from moto import mock_aws

    with mock_aws():
        import boto3
        from openloc.local.resources import create_queues

        queue_url, _ = create_queues(boto3.client("sqs", region_name="us-east-1"))
        os.environ["OBSERVATIONS_QUEUE_URL"] = queue_url
        module = _load_handler(case.function)
        _in_memory(module.services)
        imported = _status("VmRSS")
        _invoke(module, case.function, *_warm_up(case))
        body, headers = case.build()
        from openloc.local.lambda_proxy import MAX_INVOKE_PAYLOAD_BYTES, api_gateway_event, event_bytes

        path, _, query = case.path.partition("?")
        event = api_gateway_event("POST", path, query, {"host": "bench", **headers}, body, "203.0.113.7")
        size = event_bytes(event)
        row: dict[str, Any] = {"wire_bytes": len(body), "event_bytes": size}
        if size > MAX_INVOKE_PAYLOAD_BYTES:
            return {**row, "status": None, "answer": "refused before the function (event > 6 MiB)"}
        text = json.dumps(event, ensure_ascii=False)  # what the runtime receives
        del event, body
        gc.collect()
        baseline = _status("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        cpu = time.process_time()
        from openloc.local.functions import invoke

        result = invoke(module.handler, case.function, json.loads(text))
        cpu_ms = (time.process_time() - cpu) * 1000
        peak = _status("VmHWM")
    answer = result["body"] or ""
    try:
        answer = json.loads(answer)["error"]["errors"][0]["reason"]
    except (ValueError, KeyError, TypeError, IndexError):
        answer = answer[:40]
    return {
        **row,
        "status": result["statusCode"],
        "answer": answer,
        "imported_mb": imported / MIB,
        "baseline_mb": baseline / MIB,
        "peak_mb": peak / MIB,
        "delta_mb": (peak - baseline) / MIB,
        "cpu_ms": cpu_ms,
    }


# --- the parent -----------------------------------------------------------------------------------


def measure(indexes: list[int] | None = None) -> list[dict[str, Any]]:
    rows = []
    env = {**os.environ, **ENV, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers"), str(ROOT)])}
    for index in indexes if indexes is not None else range(len(CASES)):
        case = CASES[index]
        done = subprocess.run(
            [sys.executable, "-m", "bench.request_cost", "--child", str(index)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
        if not lines:
            raise RuntimeError(f"request_cost case {case.name!r} failed:\n{done.stderr[-3000:]}")
        result = json.loads(lines[-1].removeprefix(RESULT))
        rows.append({"endpoint": case.path.split("?")[0], "case": case.name, "kind": case.kind,
                     "expected": case.expect, **result})  # fmt: skip
        print(
            f"[request_cost] {case.path.split('?')[0]} {case.name}: {result.get('status')}", file=sys.stderr
        )
    return rows


def limits() -> dict[str, int]:
    from openloc.api.body import MAX_GZIP_MEMBERS

    settings = _settings()
    return {
        "SUBMIT_BODY_LIMIT": settings.submit_body_limit,
        "SUBMIT_DECOMPRESSED_LIMIT": settings.submit_decompressed_limit,
        "SUBMIT_MAX_JSON_VALUES": settings.submit_max_json_values,
        "SUBMIT_MAX_ITEMS": settings.submit_max_items,
        "SUBMIT_MAX_ENTRIES": settings.submit_max_entries,
        "LOCATE_BODY_LIMIT": settings.locate_body_limit,
        "TRANSFER_MAX_ITEMS": settings.transfer_max_items,
        "gzip members": MAX_GZIP_MEMBERS,
    }


def _size(n: int) -> str:
    return f"{n / MIB:.2f} MiB" if n >= MIB else f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} B"


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| endpoint | body | kind | on the wire | answer | baseline RSS MB | peak RSS MB | Δ MB | CPU ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["status"] is None:
            lines.append(
                f"| `{r['endpoint']}` | {r['case']} | {r['kind']} | {_size(r['wire_bytes'])} | {r['answer']} | – | – | – | – |"
            )
            continue
        answer = f"{r['status']} {r['answer']}" if r["status"] >= 400 else str(r["status"])
        if r["status"] != r["expected"]:
            answer += f" (expected {r['expected']})"
        flag = (
            " ⚠" if r["status"] < 400 and (r["delta_mb"] > TARGET_MB or r["cpu_ms"] > TARGET_CPU_MS) else ""
        )
        lines.append(
            f"| `{r['endpoint']}` | {r['case']} | {r['kind']} | {_size(r['wire_bytes'])} | {answer} | "
            f"{r['baseline_mb']:.0f} | {r['peak_mb']:.0f} | {r['delta_mb']:.1f}{flag} | {r['cpu_ms']:.0f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only", default="", help="run the cases whose endpoint or name contains this")
    args = parser.parse_args()
    if args.child is not None:
        print(RESULT + json.dumps(child(args.child)), flush=True)
        return
    chosen = [i for i, c in enumerate(CASES) if args.only in c.name or args.only in c.path]
    rows = measure(chosen)
    print("Limits: " + ", ".join(f"{k} {v:,}" for k, v in limits().items()) + "\n")
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
