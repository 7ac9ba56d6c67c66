"""The local SQS poller: the Lambda event it builds from received messages."""

from __future__ import annotations

import hashlib
from typing import Any

from openloc.local.poller import sqs_event


def test_sqs_event_shape() -> None:
    messages: list[dict[str, Any]] = [
        {"MessageId": "m1", "ReceiptHandle": "r1", "Body": '{"reports":[]}'},
        {
            "MessageId": "m2",
            "ReceiptHandle": "r2",
            "Body": "x",
            "MD5OfBody": "given",
            "Attributes": {"a": "1"},
        },
    ]
    event = sqs_event(messages, "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1")
    first, second = event["Records"]
    assert first["messageId"] == "m1" and first["receiptHandle"] == "r1" and first["body"] == '{"reports":[]}'
    assert first["md5OfBody"] == hashlib.md5(b'{"reports":[]}').hexdigest()
    assert first["eventSource"] == "aws:sqs" and first["eventSourceARN"].endswith(":q")
    assert first["awsRegion"] == "us-east-1" and first["attributes"] == {}
    assert second["md5OfBody"] == "given" and second["attributes"] == {"a": "1"}
