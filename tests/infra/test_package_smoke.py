"""Packaging smoke test: the built layers alone run every handler against real AWS APIs (moto).

`make package` builds for Lambda (arm64, CPython 3.12); this builds the very same layers for this
machine's Python (`package(target="host")`, pip resolving pyproject exactly as for Lambda), then
runs each function in a fresh interpreter whose import path holds only what Lambda would give it:
the function's folder, its layers (infra/functions.py) and boto3/botocore/s3transfer, which the
Lambda runtime provides (`RUNTIME_PROVIDED`), besides the standard library (`python -I -S`: no
site-packages, no PYTHONPATH). Each handler is imported and invoked with a real event against the
moto server of the local stack. A dependency missing from a layer fails its function here; so does
a function importing something it does not carry (the locate function importing numpy, say).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.functions import SPECS
from infra.packaging import ROOT, RUNTIME_PROVIDED, Built, package, package_geoip

pytestmark = pytest.mark.package

# Runs in the fresh interpreter: argv = [paths JSON, events file]; prints the answers and every
# imported module file that came from outside the given paths and the standard library.
PROBE = """
import asyncio, json, sys, sysconfig
paths, events = json.loads(sys.argv[1]), json.load(open(sys.argv[2]))
sys.path[0:0] = paths
import handler

class Context:
    function_name = "smoke"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:smoke"
    memory_limit_in_mb = 512
    aws_request_id = "smoke"
    log_group_name = log_stream_name = "smoke"
    def get_remaining_time_in_millis(self):
        return 60_000

answers = []
for event in events:
    asyncio.set_event_loop(asyncio.new_event_loop())
    answers.append(handler.handler(event, Context()))
roots = paths + [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]]
files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
outside = sorted(f for f in files.values() if f and not any(f.startswith(root) for root in roots))
modules = {name: f for name, f in files.items() if f and "." not in name}
print(json.dumps({"answers": answers, "outside": outside, "modules": modules}, default=str))
"""
HEAVY = ("numpy", "PIL", "pmtiles")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _mmdb(path: Path) -> Path:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=4, database_type="city", description={"en": "smoke"})
    record = {"city": "Berlin", "country_code": "DE", "latitude": 52.52, "longitude": 13.41}
    writer.insert_network(IPSet(["81.0.0.0/16"]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, Path, Path]:
    """The host build, its GeoIP layer, and a folder holding only what the Lambda runtime provides."""
    work = tmp_path_factory.mktemp("package")
    result = package(ROOT, target="host", out=work / "build", quiet=True)
    geoip = package_geoip(_mmdb(work / "city-ipv4.mmdb"), ROOT, out=work / "build")
    assert geoip is not None
    runtime = work / "runtime"
    runtime.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_PROVIDED:
        (runtime / name).symlink_to(site / name, target_is_directory=True)
    return result, geoip / "geoip", runtime


@pytest.fixture(scope="module")
def stack() -> Iterator[Any]:
    from openloc.local.stack import LocalStack

    local = LocalStack(port=_free_port(), run_poller=False, run_scheduler=False, redis=False).start()
    try:
        yield local
    finally:
        local.stop()


def _run(
    name: str, built: tuple[Built, Path, Path], events: list[dict[str, Any]], tmp_path: Path
) -> dict[str, Any]:
    build, geoip, runtime = built
    layers = [build.layers[layer] / "python" for layer in SPECS[name].layers if layer in build.layers]
    paths = [str(build.functions[name]), *map(str, layers), str(runtime)]
    events_file = tmp_path / f"{name}-events.json"
    events_file.write_text(json.dumps(events))
    environment = {
        key: value
        for key, value in os.environ.items()
        if key.startswith(
            ("AWS_", "POWERTOOLS_", "OBSERVATIONS_", "OPENLOC_", "ORIGIN_", "PATH", "HOME", "LANG")
        )
    }
    if "geoip" in SPECS[name].layers:
        environment["GEOIP_PATH"] = str(geoip)
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, json.dumps(paths), str(events_file)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,  # the assertion below shows the function's stderr
    )
    assert result.returncode == 0, result.stderr[-4000:]
    output: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert output["outside"] == [], f"{name} imported from outside its package: {output['outside']}"
    return output


def _http(method: str, path: str, body: str, source_ip: str = "81.0.12.34") -> dict[str, Any]:
    from openloc.local.lambda_proxy import api_gateway_event

    path, _, query = path.partition("?")
    headers = {"content-type": "application/json", "host": "smoke.local", "user-agent": "smoke/1.0"}
    return api_gateway_event(method, path, query, headers, body.encode(), source_ip)


def test_locate_runs_from_its_layers(built: tuple[Built, Path, Path], stack: Any, tmp_path: Path) -> None:
    wifi = (ROOT / "docs" / "examples" / "geolocate-wifi.json").read_text()
    output = _run(
        "locate",
        built,
        [
            _http("POST", "/v1/geolocate?key=test", wifi),
            _http("POST", "/v1/region?key=test", "{}"),  # from the GeoIP layer's compact file
            _http("GET", "/__heartbeat__", ""),
        ],
        tmp_path,
    )
    geolocate, region, heartbeat = output["answers"]
    assert geolocate["statusCode"] == 200, geolocate
    assert json.loads(geolocate["body"])["location"]["lat"] == pytest.approx(52.521, abs=0.01)
    assert json.loads(region["body"])["country_code"] == "DE", region
    assert heartbeat["statusCode"] == 200, heartbeat
    assert not set(HEAVY) & set(output["modules"])  # nothing of the export layer on the request path


def test_submit_then_aggregate_run_from_their_layers(
    built: tuple[Built, Path, Path], stack: Any, tmp_path: Path
) -> None:
    from openloc.local.poller import sqs_event
    from openloc.store.aws import client

    body = (ROOT / "docs" / "examples" / "geosubmit-v2.json").read_text()
    submitted = _run("submit", built, [_http("POST", "/v2/geosubmit?key=test", body)], tmp_path)
    assert submitted["answers"][0]["statusCode"] == 200, submitted["answers"][0]
    assert not set(HEAVY) & set(submitted["modules"])

    sqs = client("sqs")
    messages = sqs.receive_message(
        QueueUrl=stack.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2, AttributeNames=["All"]
    )["Messages"]
    arn = sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aggregated = _run("aggregate", built, [sqs_event(messages, arn, "us-east-1")], tmp_path)
    assert aggregated["answers"] == [{"batchItemFailures": []}]


def test_export_runs_the_tiles_job_with_its_own_layer(
    built: tuple[Built, Path, Path], stack: Any, tmp_path: Path
) -> None:
    from openloc.jobs.registry import BY_TASK
    from openloc.local.scheduler import scheduled_event

    event = scheduled_event(BY_TASK["tiles"], datetime.now(UTC).replace(minute=15, second=0), "us-east-1")
    output = _run("export", built, [event], tmp_path)
    assert output["answers"][0]["task"] == "tiles", output["answers"]
    export_layer = str(built[0].layers["export"])
    assert output["modules"]["numpy"].startswith(export_layer)
    assert output["modules"]["PIL"].startswith(export_layer)


def test_rotate_runs_from_its_layer(built: tuple[Built, Path, Path], stack: Any, tmp_path: Path) -> None:
    """The origin secret's rotation (behind the CDN): its first step, on a real secret."""
    import uuid

    from openloc.store.aws import client

    secrets = client("secretsmanager")
    arn = secrets.create_secret(Name=f"smoke-origin-{uuid.uuid4().hex[:8]}", SecretString="x" * 40)["ARN"]
    token = str(uuid.uuid4())
    os.environ["ORIGIN_DISTRIBUTION_ID"] = "E2SMOKE"
    try:
        output = _run(
            "rotate",
            built,
            [{"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"}],
            tmp_path,
        )
    finally:
        del os.environ["ORIGIN_DISTRIBUTION_ID"]
    assert output["answers"] == [None]
    pending = secrets.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")[
        "SecretString"
    ]
    assert len(pending) == 40 and pending != "x" * 40
