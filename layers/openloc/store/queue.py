"""The observations queue: many reports per SQS message, sent with SendMessageBatch.

A message body is `{"reports": [...]}` kept under `MAX_MESSAGE_BYTES` (SQS allows 256 KiB);
entries that SendMessageBatch reports as failed are retried, and if any report still cannot
be enqueued `QueueUnavailable` is raised so the API answers 503 instead of claiming success.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from openloc.observability import logger

if TYPE_CHECKING:
    from openloc.settings import Settings

MAX_MESSAGE_BYTES = 240 * 1024
MAX_BATCH_ENTRIES = 10
SEND_ATTEMPTS = 3


class QueueUnavailable(Exception):
    """Some reports could not be enqueued."""


class ObservationQueue(Protocol):
    def send(self, reports: Sequence[dict[str, Any]]) -> int: ...


def pack_messages(reports: Sequence[dict[str, Any]], limit: int = MAX_MESSAGE_BYTES) -> Iterator[str]:
    """Group JSON-encoded reports into message bodies of at most `limit` bytes."""
    chunk: list[str] = []
    size = len('{"reports":[]}')
    for report in reports:
        encoded = json.dumps(report, separators=(",", ":"))
        needed = len(encoded.encode()) + 1
        if chunk and size + needed > limit:
            yield '{"reports":[' + ",".join(chunk) + "]}"
            chunk, size = [], len('{"reports":[]}')
        chunk.append(encoded)
        size += needed
    if chunk:
        yield '{"reports":[' + ",".join(chunk) + "]}"


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

    def send(self, reports: Sequence[dict[str, Any]]) -> int:
        """Enqueue all reports; returns the number of SQS messages sent."""
        bodies = list(pack_messages(reports))
        for start in range(0, len(bodies), MAX_BATCH_ENTRIES):
            pending = {str(i): body for i, body in enumerate(bodies[start : start + MAX_BATCH_ENTRIES])}
            for _attempt in range(SEND_ATTEMPTS):
                try:
                    result = self.sqs.send_message_batch(
                        QueueUrl=self.queue_url,
                        Entries=[{"Id": k, "MessageBody": v} for k, v in pending.items()],
                    )
                except Exception as error:  # botocore errors and connection failures alike
                    logger.warning("SendMessageBatch failed", extra={"error": str(error)})
                    continue
                failed = {f["Id"] for f in result.get("Failed", [])}
                pending = {k: v for k, v in pending.items() if k in failed}
                if not pending:
                    break
            if pending:
                raise QueueUnavailable(f"{len(pending)} messages could not be enqueued")
        return len(bodies)


class MemoryObservationQueue:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def send(self, reports: Sequence[dict[str, Any]]) -> int:
        bodies = list(pack_messages(reports))
        self.messages.extend(bodies)
        return len(bodies)
