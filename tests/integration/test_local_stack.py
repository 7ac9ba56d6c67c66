"""The foundation's acceptance: a locate call answers from demo data, heartbeats, envelopes,
and an observation travels submit → SQS → aggregator → DynamoDB → locate."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openloc.geo.distance import haversine_m
from openloc.ingest.demo_seed import CENTER, DEMO_CELLS, WIFI_PREFIX, demo_mac
from openloc.local.stack import LocalStack
from openloc.store.aws import client

pytestmark = pytest.mark.integration

POST_PATHS = ["/v1/geolocate", "/v1/search", "/v2/geosubmit", "/v1/geosubmit", "/v1/submit"]


def _wifi(*indices: int) -> list[dict[str, object]]:
    mac = [demo_mac(WIFI_PREFIX, i) for i in indices]
    return [
        {"macAddress": ":".join(m[k : k + 2] for k in range(0, 12, 2)), "signalStrength": -65} for m in mac
    ]


def test_geolocate_answers_from_demo_data(api: httpx.Client) -> None:
    response = api.post("/v1/geolocate?key=test", json={"wifiAccessPoints": _wifi(0, 1, 8, 9)})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"location", "accuracy"}
    assert haversine_m(body["location"]["lat"], body["location"]["lng"], *CENTER) < 400
    assert 10 <= body["accuracy"] <= 500


def test_geolocate_by_cell_and_area_fallback(api: httpx.Client) -> None:
    cell = DEMO_CELLS[0]
    tower = {
        "radioType": "lte",
        "mobileCountryCode": cell.mcc,
        "mobileNetworkCode": int(cell.mnc),
        "locationAreaCode": cell.lac,
    }
    exact = api.post("/v1/geolocate?key=test", json={"cellTowers": [{**tower, "cellId": cell.cid}]}).json()
    assert "fallback" not in exact
    assert 1_000 <= exact["accuracy"] <= 50_000
    area = api.post("/v1/geolocate?key=test", json={"cellTowers": [{**tower, "cellId": 999}]}).json()
    assert area["fallback"] == "lacf"
    no_fallback = api.post(
        "/v1/geolocate?key=test",
        json={"cellTowers": [{**tower, "cellId": 999}], "fallbacks": {"lacf": False}},
    )
    assert no_fallback.status_code == 404
    assert no_fallback.json()["error"]["errors"][0]["reason"] == "notFound"


def test_microg_request_without_json_content_type(api: httpx.Client) -> None:
    """microG posts raw JSON with Java's default form content type."""
    body = json.dumps(
        {"wifiAccessPoints": _wifi(0, 1), "cellTowers": [], "fallbacks": {"lacf": True, "ipf": False}}
    )
    response = api.post(
        "/v1/geolocate?key=test", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_invalid_json_is_a_parse_error(api: httpx.Client, path: str, body: bytes) -> None:
    response = api.post(f"{path}?key=test", content=body)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "errors": [{"domain": "global", "reason": "parseError", "message": "Parse Error"}],
            "code": 400,
            "message": "Parse Error",
        }
    }


def test_missing_and_unknown_keys(api: httpx.Client) -> None:
    for url in ["/v1/geolocate?key=unknown-key", "/v1/geolocate?key=bad%20key"]:
        response = api.post(url, json={})
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0]["reason"] == "keyInvalid"
    # the local stack runs with OPENLOC_KEY_POLICY=optional: no key, but a User-Agent, is served
    assert api.post("/v1/geolocate", json={}, headers={"User-Agent": "curl/8.5.0"}).status_code == 404


def test_heartbeats_and_version(api: httpx.Client) -> None:
    heartbeat = api.get("/__heartbeat__")
    assert heartbeat.status_code == 200
    assert heartbeat.json()["database"]["up"] is True
    assert heartbeat.json()["redis"]["up"] is True
    assert api.get("/__lbheartbeat__").json() == {"status": "OK"}
    assert set(api.get("/__version__").json()) == {"source", "version", "commit", "build"}


def test_openapi_is_served(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    assert set(POST_PATHS) <= set(document["paths"])
    assert "LocateRequest" in document["components"]["schemas"]


def test_submission_becomes_locatable(
    api: httpx.Client, stack: LocalStack, wait_for: Callable[..., Any]
) -> None:
    """gzip geosubmit v2 → SQS → poller → aggregate handler → DynamoDB → geolocate."""
    now = int(time.time() * 1000)
    macs = ["00:5e:00:aa:00:01", "00:5e:00:aa:00:02", "00:5e:00:aa:00:03"]
    items = [
        {
            "timestamp": now,
            "position": {
                "latitude": 60.1699 + i * 0.0001,
                "longitude": 24.9384,
                "accuracy": 8.0,
                "source": "gps",
            },
            "wifiAccessPoints": [{"macAddress": m, "signalStrength": -60 - i, "age": -1200} for m in macs],
        }
        for i in range(3)
    ]
    response = api.post(
        "/v2/geosubmit",
        content=gzip.compress(json.dumps({"items": items}).encode()),
        headers={"Content-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.json() == {}

    def located() -> dict[str, object] | None:
        answer = api.post(
            "/v1/geolocate?key=test", json={"wifiAccessPoints": [{"macAddress": m} for m in macs]}
        )
        return answer.json() if answer.status_code == 200 else None

    body = wait_for(located)
    assert haversine_m(body["location"]["lat"], body["location"]["lng"], 60.1700, 24.9384) < 50
    archived = client("s3").list_objects_v2(Bucket=stack.settings.archive_bucket, Prefix="observations/")
    assert archived["KeyCount"] >= 1


def test_poison_message_goes_to_dlq_and_the_rest_is_applied(
    stack: LocalStack, api: httpx.Client, wait_for: Callable[..., Any]
) -> None:
    sqs = client("sqs")
    good = {"reports": [{
        "timestamp": int(time.time() * 1000), "latitude": 10.5, "longitude": 20.5, "accuracy": 5,
        "wifi": [{"mac": "00005e0000a1"}, {"mac": "00005e0000a2"}],
    }]}  # fmt: skip
    sqs.send_message_batch(
        QueueUrl=stack.queue_url,
        Entries=[
            {"Id": "poison", "MessageBody": "this is not a report batch"},
            {"Id": "good", "MessageBody": json.dumps(good)},
        ],
    )

    def in_dlq() -> list[dict[str, str]]:
        received: dict[str, Any] = sqs.receive_message(
            QueueUrl=stack.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        messages: list[dict[str, str]] = received.get("Messages", [])
        return messages

    dead = wait_for(in_dlq, timeout=45)
    assert [m["Body"] for m in dead] == ["this is not a report batch"]
    answer = api.post(
        "/v1/geolocate?key=test",
        json={"wifiAccessPoints": [{"macAddress": "00005e0000a1"}, {"macAddress": "00005e0000a2"}]},
    )
    assert answer.status_code == 200


def test_cors_preflight_and_headers_through_the_api_gateway_emulation(api: httpx.Client) -> None:
    """Browsers reach the API across origins: the preflight is answered by the function (API
    Gateway passes OPTIONS through), and answers carry the CORS header, errors included."""
    origin = {"Origin": "https://maps.example.org"}
    preflight = api.options(
        "/v2/geosubmit",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-encoding",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "content-encoding" in preflight.headers["access-control-allow-headers"].lower()
    unknown_key = api.post("/v1/geolocate?key=no-such-key", json={}, headers=origin)
    assert unknown_key.status_code == 400  # keyInvalid envelope
    assert unknown_key.headers["access-control-allow-origin"] == "*"
