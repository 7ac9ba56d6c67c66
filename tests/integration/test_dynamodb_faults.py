"""DynamoDB faults on the embedded stack, injected by a proxy in front of moto (see fault_proxy).

- locate: throttling and 500s → the 503 envelope after a bounded number of attempts; recovery.
- aggregator: failed writes → the message is named in batchItemFailures, redelivered and applied;
  no station counts an observation twice, even when a write succeeded before the failure.
- accounting under faults: every accepted report is either aggregated or in the dead-letter
  queue, exactly, and the S3 archive holds every one of them; poisoned messages go to the DLQ.
- an aggregator process killed (SIGKILL) between a station write and its acknowledgement: the
  batch is redelivered and applied once.

The module's stack runs without the background SQS poller: the tests drive the same
`SqsPoller` themselves, so they know when the queue is drained.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openloc.ingest.pipeline import PipelineStores
from openloc.ingest.replay import replay
from openloc.local.functions import Handler
from openloc.local.poller import SqsPoller
from openloc.local.stack import REGION, LocalStack
from openloc.store.archive import S3Archive
from openloc.store.aws import client
from openloc.store.stations import DynamoStationStore
from openloc.store.tables import MAX_RECEIVE_COUNT

from tests.integration.conftest import NO_GEOIP
from tests.integration.fault_proxy import (
    HOLD,
    INTERNAL,
    THROTTLED,
    Fault,
    FaultProxy,
    any_of,
    fail_first_attempts,
)

pytestmark = pytest.mark.integration

WRITES = {"PutItem", "UpdateItem", "BatchWriteItem", "DeleteItem"}
LOCATE_BODY = {"wifiAccessPoints": [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]}


class FaultyStack(LocalStack):
    """The local stack with every AWS call going through a FaultProxy in front of moto."""

    proxy: FaultProxy

    def _start_aws(self) -> str:
        moto_endpoint = super()._start_aws()
        self.proxy = FaultProxy(moto_endpoint).start()
        return self.proxy.url

    def stop(self) -> None:
        super().stop()
        self.proxy.stop()


@pytest.fixture(scope="module")
def faulty() -> Iterator[FaultyStack]:
    local = FaultyStack(data_dir=None, port=0, run_poller=False, run_scheduler=False,
                        visibility_timeout=1, env=NO_GEOIP)  # fmt: skip
    with local:
        yield local


@pytest.fixture
def api(faulty: FaultyStack) -> Iterator[httpx.Client]:
    faulty.proxy.set_rule(None)
    with httpx.Client(base_url=faulty.url, timeout=60) as http:
        yield http
    faulty.proxy.set_rule(None)


def assert_503_envelope(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "errors": [
                {"domain": "global", "reason": "serviceUnavailable", "message": "Service Unavailable"}
            ],
            "code": 503,
            "message": "Service Unavailable",
        }
    }


# --- locate -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [THROTTLED, INTERNAL], ids=["throttled", "internal-error"])
def test_locate_answers_503_after_bounded_retries(
    faulty: FaultyStack, api: httpx.Client, fault: Fault
) -> None:
    proxy = faulty.proxy
    assert api.post("/v1/geolocate?key=test", json=LOCATE_BODY).status_code == 200  # key now cached
    proxy.set_rule(lambda operation, _body: fault if operation == "BatchGetItem" else None)
    before = proxy.requests["BatchGetItem"]
    assert_503_envelope(api.post("/v1/geolocate?key=test", json=LOCATE_BODY))
    assert proxy.requests["BatchGetItem"] - before == 2  # one attempt and one retry, then 503
    # an unknown key cannot be checked while the key table fails: 503, not 400 and not 200
    proxy.set_rule(lambda operation, _body: fault if operation == "GetItem" else None)
    assert_503_envelope(api.post("/v1/geolocate?key=never-seen-before", json=LOCATE_BODY))
    proxy.set_rule(None)
    assert api.post("/v1/geolocate?key=test", json=LOCATE_BODY).status_code == 200


# --- the aggregator -----------------------------------------------------------------------------


def _report(stamp: int, macs: list[str], lat: float) -> dict[str, Any]:
    return {"timestamp": stamp, "position": {"latitude": lat, "longitude": 8.54, "accuracy": 5.0},
            "wifiAccessPoints": [{"macAddress": m, "signalStrength": -60} for m in macs]}  # fmt: skip


class Recorder:
    """Wraps the aggregate handler: remembers every batchItemFailure it reported."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.failed: list[str] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        result = self.handler(event, context)
        self.failed += [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
        return result


def _queue_depth(queue_url: str) -> int:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _drain(stack: LocalStack, handler: Handler, timeout: float = 90.0) -> None:
    """Poll like the Lambda event source until the queue is empty (redeliveries included)."""
    poller = SqsPoller(client("sqs"), stack.queue_url, handler, REGION)
    deadline = time.monotonic() + timeout
    while _queue_depth(stack.queue_url) > 0:
        if time.monotonic() > deadline:
            pytest.fail(f"queue not drained within {timeout} s")
        poller.poll_once(wait_seconds=1)


def _dead_letters(stack: LocalStack) -> list[dict[str, Any]]:
    """Take every message out of the dead-letter queue."""
    sqs = client("sqs")
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=60).get("Messages", []):  # fmt: skip
        messages += batch
        sqs.delete_message_batch(
            QueueUrl=stack.dlq_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return messages


def _archived(stack: LocalStack) -> dict[str, list[dict[str, Any]]]:
    """Archive objects by message id (the object's name) → their reports."""
    s3 = client("s3")
    bucket = stack.settings.archive_bucket
    objects: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="observations/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            name = item["Key"].rsplit("/", 1)[-1].removesuffix(".jsonl.gz")
            objects[name] = [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]
    return objects


def _stores(stack: LocalStack) -> PipelineStores:
    return PipelineStores.from_settings(stack.settings)


def _processed(stack: LocalStack) -> set[str]:
    items = client("dynamodb").scan(TableName=stack.settings.processed_table)["Items"]
    return {item["pk"]["S"] for item in items}


def test_accounting_under_faults(faulty: FaultyStack, api: httpx.Client) -> None:
    """Accepted = aggregated + dead-lettered, exactly; the archive holds every accepted report;
    station samples count each observation once, despite failed and partially applied messages."""
    now = int(time.time() * 1000)
    shared = ["0000aa000001", "0000aa000002"]  # in every report: counts must add up exactly
    cursed = "0000aa0000ff"  # every write of this station fails: its message must dead-letter
    submissions = [
        [_report(now - 10 * i - j, [*shared, f"0000aa01{i:02x}{j:02x}"], 47.37 + i * 1e-4) for j in range(2)]
        for i in range(6)
    ]
    # the message that will dead-letter shares no station with the others
    doomed = ["0000ab000001", "0000ab000002"]
    submissions[3] = [_report(now - 30 - j, [*doomed, *([cursed] if j else [])], 47.4) for j in range(2)]
    accepted = [r["timestamp"] for batch in submissions for r in batch]
    for batch in submissions:
        assert api.post("/v2/geosubmit", json={"items": batch}).status_code == 200
    poison = ["not json at all", json.dumps({"reports": "not a list"})]
    client("sqs").send_message_batch(
        QueueUrl=faulty.queue_url,
        Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(poison)],
    )

    transient = fail_first_attempts(WRITES | {"GetItem", "BatchGetItem"}, attempts=2,
                                    episodes=MAX_RECEIVE_COUNT - 1)  # fmt: skip
    station_pk = f'"wifi#{cursed}"'.encode()

    def cursed_writes(operation: str, body: bytes) -> Fault | None:
        return THROTTLED if operation in WRITES and station_pk in body else None

    faulty.proxy.set_rule(any_of(cursed_writes, transient))
    recorder = Recorder(faulty.handler("aggregate"))
    _drain(faulty, recorder)
    faulty.proxy.set_rule(None)

    dead = _dead_letters(faulty)
    dead_reports = [r for m in dead if m["Body"] not in poison for r in json.loads(m["Body"])["reports"]]
    archived = _archived(faulty)
    processed = _processed(faulty)
    aggregated = [r for message_id, reports in archived.items() if message_id in processed for r in reports]
    # every failure was reported per item, and faults really happened
    assert recorder.failed and faulty.proxy.faults
    assert sorted(m["Body"] for m in dead if m["Body"] in poison) == sorted(poison)
    # accepted = aggregated + dead-lettered, exactly (no report lost, none counted twice)
    assert sorted(r["timestamp"] for r in aggregated + dead_reports) == sorted(accepted)
    assert sorted(r["timestamp"] for r in dead_reports) == sorted(r["timestamp"] for r in submissions[3])
    # the archive holds every accepted report, also those of the dead-lettered message
    assert sorted(r["timestamp"] for reports in archived.values() for r in reports) == sorted(accepted)
    # stations: each aggregated observation counted once
    seen = Counter(w["mac"] for r in aggregated for w in r["wifi"])
    stations = DynamoStationStore(faulty.settings).get_stations([f"wifi#{m}" for m in seen])
    assert {key: s.samples for key, s in stations.items()} == {f"wifi#{m}": n for m, n in seen.items()}
    assert seen[shared[0]] == len(accepted) - 2
    # the dead-lettered message may have been applied in part (its good stations), never twice
    # in five receives, and its redrive would apply only the rest (stations remember message ids)
    partial = DynamoStationStore(faulty.settings).get_stations([f"wifi#{m}" for m in [*doomed, cursed]])
    assert f"wifi#{cursed}" not in partial
    assert all(station.samples == 2 for station in partial.values())

    # recovery (docs/operations.md): the cause fixed, replay the whole archive as messages: the
    # aggregated ones are skipped, the dead-lettered one completes, nothing counts twice
    result = replay(S3Archive.from_settings(faulty.settings), "observations/", _stores(faulty),
                    out=io.StringIO(), as_messages=True)  # fmt: skip
    assert (result.objects, result.skipped, result.reports) == (len(archived), len(archived) - 1, 2)
    everything = seen + Counter(w["mac"] for r in dead_reports for w in r["wifi"])
    stations = DynamoStationStore(faulty.settings).get_stations([f"wifi#{m}" for m in everything])
    assert {key: s.samples for key, s in stations.items()} == {f"wifi#{m}": n for m, n in everything.items()}


def test_aggregator_killed_between_write_and_acknowledgement(faulty: FaultyStack, api: httpx.Client) -> None:
    """A separate aggregator process receives the batch; the proxy lets its first station write
    reach DynamoDB, keeps the answer back, and the process is SIGKILLed. The batch comes back
    after the visibility timeout and is applied once."""
    now = int(time.time() * 1000)
    macs = ["0000bb000001", "0000bb000002", "0000bb000003"]
    reports = [_report(now - i, macs, 46.2 + i * 1e-4) for i in range(3)]
    for report in reports:
        assert api.post("/v2/geosubmit", json={"items": [report]}).status_code == 200
    first_station_write = {"held": False}

    def hold_first_write(operation: str, body: bytes) -> Fault | None:
        if operation == "PutItem" and b'"wifi#0000bb' in body and not first_station_write["held"]:
            first_station_write["held"] = True
            return HOLD
        return None

    faulty.proxy.set_rule(hold_first_write)
    script = (
        "import os; from openloc.local.functions import load_handler; from openloc.local.poller import SqsPoller;"
        "from openloc.store.aws import client;"
        "SqsPoller(client('sqs'), os.environ['OBSERVATIONS_QUEUE_URL'], load_handler('aggregate'), 'us-east-1')"
        ".poll_once(wait_seconds=5)"
    )
    aggregator = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        assert faulty.proxy.held.wait(timeout=60), "the aggregator never wrote a station"
        aggregator.send_signal(signal.SIGKILL)
        aggregator.wait(timeout=30)
    finally:
        if aggregator.poll() is None:
            aggregator.kill()
        faulty.proxy.set_rule(None)
        faulty.proxy.release.set()
    written = DynamoStationStore(faulty.settings).get_stations([f"wifi#{m}" for m in macs])
    assert written, "the held write reached DynamoDB before the kill"
    recorder = Recorder(faulty.handler("aggregate"))
    _drain(faulty, recorder)
    stations = DynamoStationStore(faulty.settings).get_stations([f"wifi#{m}" for m in macs])
    assert {key: s.samples for key, s in stations.items()} == {f"wifi#{m}": len(reports) for m in macs}
    assert _dead_letters(faulty) == []
