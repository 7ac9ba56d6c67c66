"""Play the SQS → Lambda event source mapping: receive, invoke the aggregator, delete what succeeded.

Messages named in `batchItemFailures` are left alone, so they become visible again and are
redelivered; the queue's redrive policy moves them to the DLQ after too many receives.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from openloc.local.functions import Handler, invoke
from openloc.observability import logger


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda passes for an SQS batch (records in the documented shape)."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class SqsPoller:
    def __init__(self, sqs: Any, queue_url: str, handler: Handler, region: str, batch_size: int = 10) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.region = region
        self.batch_size = batch_size
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqs-poller", daemon=True)

    def poll_once(self, wait_seconds: int = 1) -> int:
        """One receive → invoke → delete round; returns the number of messages received."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        try:
            result = invoke(self.handler, "aggregate", sqs_event(received, self.queue_arn, self.region)) or {}
        except Exception:
            logger.exception("aggregate invocation failed; the whole batch will be redelivered")
            return len(received)
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in received if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(received)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("sqs poll failed")
                self._stop.wait(1.0)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
