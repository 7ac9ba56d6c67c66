"""Queue message packing, the SQS batch limits, and the in-memory queue.

The fake SQS client below enforces what SQS enforces (and moto too): at most 10 entries per
SendMessageBatch and at most `batch_limit` bytes of message bodies in one request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st
from openloc.store.queue import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ENTRIES,
    MAX_MESSAGE_BYTES,
    MemoryObservationQueue,
    QueueUnavailable,
    ReportTooLarge,
    SqsObservationQueue,
    batch_messages,
    max_message_bytes,
    pack_messages,
)

ROOT = Path(__file__).resolve().parents[3]
EMPTY = len('{"reports":[]}')
# The largest report that still fits one message on its own, and its JSON overhead.
PAD_OVERHEAD = len(json.dumps({"pad": ""}, separators=(",", ":")))
LARGEST_PAD = MAX_MESSAGE_BYTES - EMPTY - PAD_OVERHEAD

reports_strategy = st.lists(
    st.fixed_dictionaries({"id": st.integers(0, 10**6), "pad": st.text(alphabet="abc\u00e9", max_size=200)}),
    max_size=40,
)


class FakeSqs:
    """SendMessageBatch with SQS's limits; records every request."""

    def __init__(self, batch_limit: int = MAX_BATCH_BYTES) -> None:
        self.batch_limit = batch_limit
        self.requests: list[list[str]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        bodies = [e["MessageBody"] for e in Entries]
        total = sum(len(b.encode()) for b in bodies)
        if len(Entries) > 10 or total > self.batch_limit:
            raise ClientError(
                {
                    "Error": {
                        "Code": "AWS.SimpleQueueService.BatchRequestTooLong",
                        "Message": f"{total} bytes",
                    }
                },
                "SendMessageBatch",
            )
        self.requests.append(bodies)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def _received(sqs: FakeSqs) -> list[dict[str, Any]]:
    return [r for request in sqs.requests for body in request for r in json.loads(body)["reports"]]


@given(reports_strategy, st.integers(300, 3_000))
def test_pack_messages_bounded_ordered_lossless(reports: list[dict[str, Any]], limit: int) -> None:
    bodies = list(pack_messages(reports, limit))
    for body in bodies:
        assert len(body.encode()) <= limit
    unpacked = [r for body in bodies for r in json.loads(body)["reports"]]
    assert unpacked == reports


def test_pack_messages_fills_a_message_exactly() -> None:
    report = {"pad": "x" * LARGEST_PAD}
    (body,) = pack_messages([report])
    assert len(body) == MAX_MESSAGE_BYTES


# Report sizes: small ones, ones of a few KiB, and ones within a few bytes of the per-message limit.
report_sizes = st.lists(
    st.one_of(
        st.integers(0, 2_000),
        st.integers(2_000, 60_000),
        st.integers(LARGEST_PAD - 64, LARGEST_PAD),
    ),
    max_size=60,
)


@given(report_sizes)
def test_any_report_list_is_sent_within_the_message_and_batch_limits(sizes: list[int]) -> None:
    reports = [{"pad": "abcdefghij"[i % 10] * size} for i, size in enumerate(sizes)]
    sqs = FakeSqs()
    messages = SqsObservationQueue("q", sqs).send(reports)
    assert messages == sum(len(request) for request in sqs.requests)
    for request in sqs.requests:
        assert 1 <= len(request) <= MAX_BATCH_ENTRIES
        assert sum(len(body.encode()) for body in request) <= MAX_BATCH_BYTES
        assert all(len(body.encode()) <= MAX_MESSAGE_BYTES for body in request)
    assert _received(sqs) == reports  # every report once, in order


@given(st.lists(st.integers(1, MAX_MESSAGE_BYTES), max_size=40))
def test_batch_messages_respects_entries_and_bytes(sizes: list[int]) -> None:
    bodies = ["x" * size for size in sizes]
    batches = list(batch_messages(bodies))
    assert [b for batch in batches for b in batch] == bodies
    for batch in batches:
        assert len(batch) <= MAX_BATCH_ENTRIES and sum(map(len, batch)) <= MAX_BATCH_BYTES


def test_a_report_larger_than_a_message_is_refused_before_anything_is_sent() -> None:
    sqs = FakeSqs()
    reports = [{"pad": "a"}, {"pad": "x" * (LARGEST_PAD + 1)}, {"pad": "b"}, {"pad": "é" * MAX_MESSAGE_BYTES}]
    with pytest.raises(ReportTooLarge) as info:
        SqsObservationQueue("q", sqs).send(reports)
    assert info.value.indexes == [1, 3]  # `é` travels as \u00e9: six bytes each
    assert sqs.requests == []
    with pytest.raises(ReportTooLarge):
        MemoryObservationQueue().send(reports)


def test_an_sqs_with_the_old_256_kib_batch_limit_gets_one_message_per_request() -> None:
    sqs = FakeSqs(batch_limit=256 * 1024)
    reports = [{"pad": "x" * 100_000, "n": i} for i in range(12)]
    SqsObservationQueue("q", sqs).send(reports)
    assert _received(sqs) == reports
    assert all(sum(map(len, r)) <= 256 * 1024 for r in sqs.requests)


def test_a_batch_that_keeps_failing_is_queue_unavailable() -> None:
    class Down(FakeSqs):
        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
            raise ConnectionError("no route to host")

    with pytest.raises(QueueUnavailable):
        SqsObservationQueue("q", Down()).send([{"a": 1}])


def test_message_size_fits_the_aggregators_invocation() -> None:
    """10 messages (cdk.json's aggregate batch size), each JSON-escaped into the SQS event, plus the
    records' attributes, stay under Lambda's 6 MB invocation payload."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    batch_size = context["openloc:aggregate_batch_size"]
    assert batch_size <= 10  # above 10 Lambda's poller bounds the payload itself (batching window)
    assert max_message_bytes(batch_size) >= MAX_MESSAGE_BYTES
    worst = '{"reports":[{"ssid":"' + '\\"' * ((MAX_MESSAGE_BYTES - 40) // 2) + '"}]}'
    assert len(json.dumps(worst)) <= 2 * MAX_MESSAGE_BYTES + 2  # escaping at most doubles a body


def test_memory_queue() -> None:
    queue = MemoryObservationQueue()
    assert queue.send([{"a": 1}, {"b": 2}]) == 1
    assert json.loads(queue.messages[0]) == {"reports": [{"a": 1}, {"b": 2}]}
