"""No client IP and no full API key is stored anywhere: logs, Redis, DynamoDB, SQS, S3.

Requests carry a distinctive key and client addresses (the local API Gateway emulation takes
the client address from `X-Forwarded-For` on loopback, as API Gateway's `sourceIp`), go through
locate, region, keyed and anonymous submissions (with `connection.ip` in the body) and the
aggregation; then every item, object, Redis entry and log line is searched for them. The
api_keys table itself is the one place a key is kept (it is the key store) and is left out.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from openloc.ingest.demo_seed import WIFI_PREFIX, demo_mac
from openloc.local.stack import LocalStack
from openloc.model.records import ApiKeyRecord
from openloc.store.api_keys import DynamoApiKeyStore
from openloc.store.aws import client
from openloc.store.tables import TABLES, table_name

pytestmark = pytest.mark.integration

KEY = "privacy-check-key-7f3a9c2e1d5b"
# A User-Agent with a device-identifying tail: only its family (`PrivacyProbe/9.8`) may be kept,
# as the name of a keyless client's limit counters (docs/privacy.md).
USER_AGENT = "PrivacyProbe/9.8.7 (Linux; Android 14; SM-X999-secret-model)"
CLIENT_IP = "203.0.113.77"
SUBMITTER_IP = "198.51.100.23"
IPV6 = "2001:db8::1f2e"


def _dynamodb_dump(stack: LocalStack) -> str:
    dynamodb = client("dynamodb")
    dumps = []
    for spec in TABLES:
        if spec.setting == "api_keys_table":
            continue
        for page in dynamodb.get_paginator("scan").paginate(TableName=table_name(stack.settings, spec)):
            dumps.append(json.dumps(page["Items"]))
    return "\n".join(dumps)


def _s3_dump(stack: LocalStack) -> str:
    s3 = client("s3")
    texts = []
    for bucket in (stack.settings.archive_bucket, stack.settings.assets_bucket):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                if body[:2] == b"\x1f\x8b":
                    body = gzip.decompress(body)
                texts.append(item["Key"] + "\n" + body.decode("utf-8", "replace"))
    return "\n".join(texts)


def _redis_dump(stack: LocalStack) -> str:
    connection = redis.Redis.from_url(stack.settings.redis_url)
    entries = []
    for name in connection.scan_iter(count=1000):
        kind = connection.type(name)
        value: Any = connection.get(name) if kind == b"string" else connection.dump(name)
        entries.append(repr(name) + " " + repr(value))
    return "\n".join(entries)


def _sqs_dump(stack: LocalStack) -> str:
    sqs = client("sqs")
    bodies = []
    for url in (stack.queue_url, stack.dlq_url):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        ):
            bodies.append(message["Body"])
    return "\n".join(bodies)


def test_no_client_ip_and_no_full_key_is_stored(
    stack: LocalStack, api: httpx.Client, wait_for: Callable[..., Any], log_lines: io.StringIO
) -> None:
    DynamoApiKeyStore(stack.settings).put(ApiKeyRecord(key=KEY, allow_submit=True))
    now = int(time.time() * 1000)
    macs = ["00:5e:00:77:00:01", "00:5e:00:77:00:02"]
    item = {
        "timestamp": now,
        "position": {"latitude": 59.3293, "longitude": 18.0686, "accuracy": 6.0},
        "connection": {"ip": SUBMITTER_IP},
        "wifiAccessPoints": [{"macAddress": m, "signalStrength": -58} for m in macs],
    }
    locate = {"wifiAccessPoints": [{"macAddress": m} for m in macs], "considerIp": True}
    for address in (CLIENT_IP, IPV6):
        headers = {"X-Forwarded-For": address, "User-Agent": USER_AGENT}
        assert api.post("/v1/geolocate", json=locate, headers=headers).status_code in (200, 404)  # keyless
        assert (
            api.post(f"/v2/geosubmit?key={KEY}", json={"items": [item]}, headers=headers).status_code == 200
        )
        assert (
            api.post("/v2/geosubmit", json={"items": [item]}, headers=headers).status_code == 200
        )  # anonymous
        assert api.post("/v1/region?key=" + KEY, json={}, headers=headers).status_code == 404
        assert api.post("/v1/geolocate?key=" + KEY + "x", json=locate, headers=headers).status_code == 400

    def aggregated() -> bool:
        answer = api.post(f"/v1/geolocate?key={KEY}", json=locate, headers={"X-Forwarded-For": CLIENT_IP})
        return answer.status_code == 200

    wait_for(aggregated, timeout=45)
    stored = {
        "dynamodb": _dynamodb_dump(stack),
        "s3": _s3_dump(stack),
        "redis": _redis_dump(stack),
        "sqs": _sqs_dump(stack),
        "logs": log_lines.getvalue(),
    }
    assert "submission accepted" in stored["logs"]  # the logs were captured...
    assert (
        "observations/" in stored["s3"] and "wifi#005e00770001" in stored["dynamodb"]
    )  # ...and the data stored
    assert stored["redis"]  # key cache and per-IP counters exist, under digests
    for place, text in stored.items():
        for secret in (KEY, CLIENT_IP, SUBMITTER_IP, IPV6, "203.0.113", "198.51.100", "9.8.7", "SM-X999"):
            assert secret not in text, f"{secret!r} found in {place}"
    assert "PrivacyProbe/9.8" in stored["redis"]  # the family, as documented, and nothing more


class RecordingSegment:
    def __init__(self, recorded: list[tuple[str, Any]]) -> None:
        self.recorded = recorded

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.recorded.append((key, value))

    def put_annotation(self, key: str, value: Any) -> None:
        self.recorded.append((key, value))

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self.recorded.append(("exception", repr(exception)))


class RecordingProvider:
    """An X-Ray provider that keeps what the handlers' tracer would send."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, Any]] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Iterator[RecordingSegment]:
        yield RecordingSegment(self.recorded)

    def put_annotation(self, key: str, value: Any) -> None:
        self.recorded.append((key, value))

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.recorded.append((key, value))


def test_traces_hold_no_located_position(stack: LocalStack, api: httpx.Client) -> None:
    """X-Ray recorded each handler's answer as trace metadata: the located position to 7 digits.
    The handlers' tracer records annotations (cold start, service) and nothing of the answer."""
    from openloc.observability import tracer

    stack.handler("locate")  # the real handler module and its decorators
    recorder = RecordingProvider()
    original = tracer.provider
    tracer.provider = recorder  # type: ignore[assignment]
    try:
        body = {"wifiAccessPoints": [{"macAddress": demo_mac(WIFI_PREFIX, i)} for i in (1, 2, 3)]}
        answer = api.post("/v1/geolocate?key=test", json=body)
    finally:
        tracer.provider = original
    assert answer.status_code == 200
    lat = str(answer.json()["location"]["lat"])
    assert recorder.recorded, "the tracer was not called"
    assert {key for key, _ in recorder.recorded} <= {"ColdStart", "Service"}
    assert lat not in repr(recorder.recorded)
