"""The local API Gateway emulation refuses what AWS refuses before the function runs."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import tracemalloc
from typing import Any

import pytest
from openloc.local.lambda_proxy import (
    MAX_INVOKE_PAYLOAD_BYTES,
    MAX_PAYLOAD_BYTES,
    LambdaProxy,
    api_gateway_event,
    event_bytes,
)
from openloc.settings import Settings
from starlette.testclient import TestClient
from starlette.types import Message, Scope

GZIP = {"content-encoding": "gzip", "content-type": "application/json"}


@pytest.fixture
def invoked() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def proxy(invoked: list[dict[str, Any]]) -> TestClient:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        invoked.append(event)
        return {"statusCode": 200, "body": "{}", "headers": {"content-type": "application/json"}}

    return TestClient(LambdaProxy(lambda name: handler))


def test_text_bodies_travel_as_text_others_base64() -> None:
    event = api_gateway_event(
        "POST", "/v2/geosubmit", "", {"content-type": "application/json"}, b'{"a":1}', "1.2.3.4"
    )
    assert (event["body"], event["isBase64Encoded"]) == ('{"a":1}', False)
    for headers in (GZIP, {}, {"content-type": "application/octet-stream"}):
        event = api_gateway_event("POST", "/v2/geosubmit", "", headers, b'{"a":1}', "1.2.3.4")
        assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b'{"a":1}'


def test_the_largest_compressed_submission_reaches_the_function(
    proxy: TestClient, invoked: list[dict[str, Any]]
) -> None:
    body = os.urandom(Settings().submit_body_limit)
    response = proxy.post("/v2/geosubmit", content=body, headers=GZIP)
    assert response.status_code == 200
    (event,) = invoked
    assert event_bytes(event) <= MAX_INVOKE_PAYLOAD_BYTES
    assert base64.b64decode(event["body"]) == body


def test_an_event_over_the_invocation_payload_is_refused_before_the_function(
    proxy: TestClient, invoked: list[dict[str, Any]]
) -> None:
    """4.5 MiB of gzip is 6 MiB of base64: Lambda refuses the invocation, the function never runs."""
    response = proxy.post("/v2/geosubmit", content=os.urandom(4_718_592), headers=GZIP)
    assert response.status_code == 413
    assert response.json() == {"message": "Request Too Long"}
    assert invoked == []


def test_a_body_over_api_gateways_limit_is_refused(proxy: TestClient, invoked: list[dict[str, Any]]) -> None:
    response = proxy.post("/v2/geosubmit", content=b"x" * (10 * 1024 * 1024 + 1))
    assert (response.status_code, response.json()) == (413, {"message": "Request Entity Too Large"})
    assert invoked == []


def test_a_chunked_body_is_refused_at_the_limit_without_reading_the_rest(
    invoked: list[dict[str, Any]],
) -> None:
    """The attack: a 200 MB chunked body (no Content-Length) was read whole before its 413, adding
    390 MB of memory. Now reading stops as soon as the limit is passed."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        invoked.append(event)
        return {"statusCode": 200, "body": "{}"}

    chunk = 1024 * 1024
    total_chunks = 200
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * chunk, "more_body": read < total_chunks}

    async def send(message: Message) -> None:
        sent.append(dict(message))

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/v2/geosubmit",
        "raw_path": b"/v2/geosubmit",
        "query_string": b"",
        "headers": [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
        "http_version": "1.1",
    }
    tracemalloc.start()
    try:
        asyncio.run(LambdaProxy(lambda name: handler)(scope, receive, send))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"]) == {"message": "Request Entity Too Large"}
    assert read == MAX_PAYLOAD_BYTES // chunk + 1  # 11 of the 200 chunks: not one more
    assert peak < 3 * MAX_PAYLOAD_BYTES  # ~the limit plus a chunk (it was 390 MB)
    assert invoked == []
