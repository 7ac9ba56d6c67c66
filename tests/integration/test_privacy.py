"""No client IP and no full API key is stored anywhere: logs, Redis, DynamoDB, SQS, S3.

Requests carry a distinctive key and client addresses (the local API Gateway emulation takes
the client address from `X-Forwarded-For` on loopback, as API Gateway's `sourceIp`), go through
locate, region, keyed and anonymous submissions (with `connection.ip` in the body) and the
aggregation; then every item, object, Redis entry and log line is searched for them. The
api_keys table itself is the one place a key is kept (it is the key store) and is left out.
"""

from __future__ import annotations

import gzip
import io
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis
from openloc.local.stack import LocalStack
from openloc.model.records import ApiKeyRecord
from openloc.store.api_keys import DynamoApiKeyStore
from openloc.store.aws import client
from openloc.store.tables import TABLES, table_name

pytestmark = pytest.mark.integration

KEY = "privacy-check-key-7f3a9c2e1d5b"
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
        headers = {"X-Forwarded-For": address}
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
        for secret in (KEY, CLIENT_IP, SUBMITTER_IP, IPV6, "203.0.113", "198.51.100"):
            assert secret not in text, f"{secret!r} found in {place}"
