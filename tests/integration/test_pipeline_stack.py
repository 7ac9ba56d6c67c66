"""The pipeline against the DynamoDB/S3 APIs of the local stack: the real aggregate handler with
SQS-shaped events (redelivery), two aggregators racing on the same stations, and replay."""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from openloc.ingest.pipeline import PipelineStores, process_reports
from openloc.ingest.replay import replay
from openloc.local.functions import invoke
from openloc.local.poller import sqs_event
from openloc.local.stack import LocalStack
from openloc.model.report import Report, WifiObservation
from openloc.store.archive import S3Archive
from openloc.store.aws import client
from openloc.store.stations import DynamoStationStore

pytestmark = pytest.mark.integration


def _message(macs: list[str], lat: float = 47.37) -> dict[str, Any]:
    body = {
        "reports": [
            {"timestamp": int(time.time() * 1000), "latitude": lat, "longitude": 8.54, "accuracy": 5.0,
             "wifi": [{"mac": m, "signal": -60} for m in macs]}
        ]
    }  # fmt: skip
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "local",
        "Body": json.dumps(body),
        "Attributes": {
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
            "ApproximateReceiveCount": "1",
        },
    }


def _stores(stack: LocalStack) -> PipelineStores:
    return PipelineStores.from_settings(stack.settings)


def test_redelivered_sqs_message_changes_nothing(stack: LocalStack) -> None:
    handler = stack.handler("aggregate")
    message = _message(["0000c0de0001", "0000c0de0002"])
    event = sqs_event([message], "arn:aws:sqs:us-east-1:000000000000:openloc-observations", "us-east-1")
    assert invoke(handler, "aggregate", event)["batchItemFailures"] == []
    stations = DynamoStationStore(stack.settings)
    first = stations.get_stations(["wifi#0000c0de0001"])["wifi#0000c0de0001"]
    assert invoke(handler, "aggregate", event)["batchItemFailures"] == []
    again = stations.get_stations(["wifi#0000c0de0001"])["wifi#0000c0de0001"]
    assert (again.samples, again.version, again.weight) == (first.samples, first.version, first.weight)


def test_two_aggregators_on_the_same_stations_lose_no_update(stack: LocalStack) -> None:
    macs = ["0000c0de0101", "0000c0de0102", "0000c0de0103"]
    per_thread = 6
    errors: list[BaseException] = []

    def aggregate(thread: int) -> None:
        stores = _stores(stack)
        try:
            for i in range(per_thread):
                reports = [Report(timestamp=1, latitude=47.37, longitude=8.54, accuracy=5.0,
                                  wifi=tuple(WifiObservation(mac=m) for m in macs))]  # fmt: skip
                process_reports(reports, stores, time_now(), message_id=f"t{thread}-{i}")
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=aggregate, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    stored = DynamoStationStore(stack.settings).get_stations([f"wifi#{m}" for m in macs])
    assert {s.samples for s in stored.values()} == {2 * per_thread}


def time_now() -> datetime:
    return datetime.now(UTC)


def test_replay_rebuilds_stations_from_the_archive(stack: LocalStack) -> None:
    stores = _stores(stack)
    # (a current timestamp: replay skips reports older than ARCHIVE_RETENTION_DAYS)
    reports = [Report(timestamp=int(time.time() * 1000), latitude=46.2, longitude=6.14, accuracy=5.0,
                      wifi=(WifiObservation(mac="0000c0de0201"), WifiObservation(mac="0000c0de0202")))]  # fmt: skip
    result = process_reports(reports, stores, time_now(), message_id="replay-source")
    assert result.archive_key is not None
    # a fresh store (another table name would do the same): here, wipe the two stations first
    client("dynamodb").delete_item(
        TableName=stack.settings.stations_table, Key={"pk": {"S": "wifi#0000c0de0201"}}
    )
    client("dynamodb").delete_item(
        TableName=stack.settings.stations_table, Key={"pk": {"S": "wifi#0000c0de0202"}}
    )
    out = io.StringIO()
    replayed = replay(S3Archive.from_settings(stack.settings), result.archive_key, stores, out=out)
    assert (replayed.objects, replayed.reports, replayed.invalid) == (1, 1, 0)
    assert "1/1 objects" in out.getvalue()
    restored = DynamoStationStore(stack.settings).get_stations(["wifi#0000c0de0201"])
    assert restored["wifi#0000c0de0201"].lat == pytest.approx(46.2)
