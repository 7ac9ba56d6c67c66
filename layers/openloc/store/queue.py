"""The observations queue: many reports per SQS message, sent with SendMessageBatch.

A message body is `{"reports": [...]}` (compact, ASCII-only JSON: non-ASCII is `\\u`-escaped, so
characters and bytes are the same count). The SQS limits this module keeps, and why:

- **One message ≤ `MAX_MESSAGE_BYTES` (240 KiB).** SQS takes messages of up to 1 MiB since August
  2025, but the limit was 256 KiB for years (and a queue's `MaximumMessageSize` may still say so),
  and the aggregator must receive its messages inside one Lambda invocation: an SQS event carries
  up to `openloc:aggregate_batch_size` messages (10, infra/pipeline.py and cdk.json), each body
  JSON-escaped inside the event (at most twice as long: in ASCII JSON only `"` and `\\` gain a
  byte) plus ~1 KiB of record attributes, under Lambda's 6 MB invocation payload:
  10 × (2 × 240 KiB + 1 KiB) ≈ 4.9 MB (`max_message_bytes(10)` ≈ 292 KiB; a unit test checks
  cdk.json's batch size against it). Batch sizes above 10 need a batching window, and then
  Lambda's poller itself ends a batch at the 6 MB payload limit.
- **One SendMessageBatch ≤ `MAX_BATCH_ENTRIES` (10) entries and ≤ `MAX_BATCH_BYTES` (1 MiB)** of
  message bodies in total (SQS's batch limit since August 2025; moto enforces it). An SQS that
  still has the older 256 KiB batch limit answers `BatchRequestTooLong`: that batch is then sent
  again one message per request (each message fits the old limits too).
- **A report larger than one message on its own cannot be sent at all.** `send` raises
  `ReportTooLarge` naming every such report before it sends anything; the submit API drops them
  (counted) and sends the rest, so such a report never makes a client retry a 503 forever.

Entries that SendMessageBatch reports as failed are retried; if any message still cannot be
enqueued `QueueUnavailable` is raised so the API answers 503 instead of claiming success.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from openloc.observability import logger

if TYPE_CHECKING:
    from openloc.settings import Settings

MAX_MESSAGE_BYTES = 240 * 1024
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 1024 * 1024
SEND_ATTEMPTS = 3
# Lambda's synchronous invocation payload (6 MB; the SQS event source invokes synchronously) and
# what one SQS record of an event costs besides its body (ids, receipt handle, attributes, ARN).
LAMBDA_PAYLOAD_BYTES = 6_000_000
SQS_RECORD_OVERHEAD_BYTES = 1024
_EMPTY_BODY = len('{"reports":[]}')


def max_message_bytes(batch_size: int) -> int:
    """The largest message body whose SQS events of `batch_size` records fit one invocation."""
    return (LAMBDA_PAYLOAD_BYTES // batch_size - SQS_RECORD_OVERHEAD_BYTES) // 2


class QueueUnavailable(Exception):
    """Some reports could not be enqueued."""


class ReportTooLarge(ValueError):
    """Reports that are larger than one message on their own; nothing was sent."""

    def __init__(self, indexes: list[int]) -> None:
        super().__init__(f"{len(indexes)} reports are larger than one queue message")
        self.indexes = indexes


class ObservationQueue(Protocol):
    def send(self, reports: Iterable[dict[str, Any]]) -> int:
        """Enqueue the reports (consumed once, in order: a generator keeps one report's dict
        alive at a time); returns the number of messages."""
        ...


def encode_report(report: dict[str, Any]) -> str:
    """One report as it travels: compact JSON, non-ASCII escaped (length = bytes)."""
    return json.dumps(report, separators=(",", ":"))


def pack_messages(reports: Iterable[dict[str, Any]], limit: int = MAX_MESSAGE_BYTES) -> Iterator[str]:
    """Group reports, in order, into message bodies of at most `limit` bytes.

    Raises `ReportTooLarge` (before yielding anything) if a report cannot fit a message alone."""
    encoded = [encode_report(report) for report in reports]
    too_large = [i for i, text in enumerate(encoded) if _EMPTY_BODY + len(text) > limit]
    if too_large:
        raise ReportTooLarge(too_large)
    return _pack(encoded, limit)


def _pack(encoded: list[str], limit: int) -> Iterator[str]:
    chunk: list[str] = []
    size = _EMPTY_BODY
    for text in encoded:
        needed = len(text) + (1 if chunk else 0)  # the separating comma
        if chunk and size + needed > limit:
            yield '{"reports":[' + ",".join(chunk) + "]}"
            chunk, size = [], _EMPTY_BODY
            needed = len(text)
        chunk.append(text)
        size += needed
    if chunk:
        yield '{"reports":[' + ",".join(chunk) + "]}"


def batch_messages(
    bodies: Sequence[str], max_entries: int = MAX_BATCH_ENTRIES, max_bytes: int = MAX_BATCH_BYTES
) -> Iterator[list[str]]:
    """Group message bodies, in order, into SendMessageBatch requests within both batch limits."""
    batch: list[str] = []
    size = 0
    for body in bodies:
        if batch and (len(batch) == max_entries or size + len(body) > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(body)
        size += len(body)
    if batch:
        yield batch


def _batch_too_long(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return "BatchRequestTooLong" in str(code)


class SqsObservationQueue:
    def __init__(self, queue_url: str, sqs: Any | Callable[[], Any]) -> None:
        """`sqs` is a client, or a factory called on first send (keeps it off the cold start)."""
        self.queue_url = queue_url
        self._sqs = sqs

    @classmethod
    def from_settings(cls, settings: Settings) -> SqsObservationQueue:
        """The deployment's queue; the client is created on the first send."""
        from openloc.store.aws import client

        return cls(settings.observations_queue_url, lambda: client("sqs"))

    @property
    def sqs(self) -> Any:
        if callable(self._sqs) and not hasattr(self._sqs, "send_message_batch"):
            self._sqs = self._sqs()
        return self._sqs

    def send(self, reports: Iterable[dict[str, Any]]) -> int:
        """Enqueue all reports; returns the number of SQS messages sent."""
        bodies = list(pack_messages(reports))
        for batch in batch_messages(bodies):
            self._send_batch(batch)
        return len(bodies)

    def _send_batch(self, bodies: list[str]) -> None:
        pending = {str(i): body for i, body in enumerate(bodies)}
        for _attempt in range(SEND_ATTEMPTS):
            try:
                result = self.sqs.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": k, "MessageBody": v} for k, v in pending.items()],
                )
            except Exception as error:  # botocore errors and connection failures alike
                if _batch_too_long(error) and len(pending) > 1:
                    logger.warning("SendMessageBatch too long: sending one message per request")
                    for body in pending.values():
                        self._send_batch([body])
                    return
                logger.warning("SendMessageBatch failed", extra={"error": str(error)})
                continue
            failed = {f["Id"] for f in result.get("Failed", [])}
            pending = {k: v for k, v in pending.items() if k in failed}
            if not pending:
                return
        raise QueueUnavailable(f"{len(pending)} messages could not be enqueued")


class MemoryObservationQueue:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def send(self, reports: Iterable[dict[str, Any]]) -> int:
        bodies = list(pack_messages(reports))
        self.messages.extend(bodies)
        return len(bodies)
