"""The ASGI app in-process: the HTTP contract of DESIGN.md §4 against in-memory services."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest
from openloc.api.keys import key_digest
from openloc.api.services import Services
from openloc.ingest.demo_seed import BLUE_PREFIX, CENTER, DEMO_CELLS, WIFI_PREFIX, demo_mac
from openloc.model.records import StationRecord
from openloc.settings import Settings
from openloc.store.queue import MemoryObservationQueue, QueueUnavailable

if TYPE_CHECKING:
    from openloc.store.stations import MemoryStationStore
    from starlette.testclient import TestClient

Client = Callable[[Services], "TestClient"]


def wifi_body(*indexes: int) -> dict[str, Any]:
    return {
        "wifiAccessPoints": [
            {"macAddress": demo_mac(WIFI_PREFIX, i), "signalStrength": -60 - i} for i in indexes
        ]
    }


def lte_tower(cid: int) -> dict[str, Any]:
    cell = DEMO_CELLS[0]
    return {
        "radioType": "lte",
        "mobileCountryCode": cell.mcc,
        "mobileNetworkCode": int(cell.mnc),
        "locationAreaCode": cell.lac,
        "cellId": cid,
        "signalStrength": -90,
    }


def assert_envelope(response: Any, status: int, domain: str, reason: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == status
    (detail,) = body["error"]["errors"]
    assert (detail["domain"], detail["reason"]) == (domain, reason)
    assert detail["message"] == body["error"]["message"]


def reports_in(queue: MemoryObservationQueue) -> list[dict[str, Any]]:
    return [r for message in queue.messages for r in json.loads(message)["reports"]]


def v2_item(now_ms: int, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "timestamp": now_ms - 5_000,
        "position": {"latitude": 52.52, "longitude": 13.41, "accuracy": 10},
        "wifiAccessPoints": [{"macAddress": "00:1a:2b:aa:00:01"}, {"macAddress": "00:1a:2b:aa:00:02"}],
    }
    item.update(overrides)
    return item


# --- geolocate ------------------------------------------------------------------------------


def test_geolocate_wifi_happy_path(client: TestClient) -> None:
    response = client.post("/v1/geolocate?key=test", json=wifi_body(9, 10, 17))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"location", "accuracy"}
    assert abs(body["location"]["lat"] - CENTER[0]) < 0.005
    assert abs(body["location"]["lng"] - CENTER[1]) < 0.01
    assert 10 <= body["accuracy"] <= 500


def test_geolocate_single_wifi_is_not_enough(client: TestClient) -> None:
    assert_envelope(
        client.post("/v1/geolocate?key=test", json={**wifi_body(9), "considerIp": False}),
        404,
        "geolocation",
        "notFound",
    )


def test_geolocate_bluetooth(client: TestClient) -> None:
    body = {"bluetoothBeacons": [{"macAddress": demo_mac(BLUE_PREFIX, i)} for i in range(3)]}
    response = client.post("/v1/geolocate?key=test", json=body)
    assert response.status_code == 200
    assert 10 <= response.json()["accuracy"] <= 100


def test_geolocate_cell(client: TestClient) -> None:
    response = client.post("/v1/geolocate?key=test", json={"cellTowers": [lte_tower(DEMO_CELLS[1].cid)]})
    assert response.status_code == 200
    body = response.json()
    assert "fallback" not in body
    assert 1_000 <= body["accuracy"] <= 50_000


def test_geolocate_top_level_radio_type_applies(client: TestClient) -> None:
    tower = lte_tower(DEMO_CELLS[2].cid)
    del tower["radioType"]
    response = client.post("/v1/geolocate?key=test", json={"radioType": "lte", "cellTowers": [tower]})
    assert response.status_code == 200


def test_geolocate_lacf_fallback(client: TestClient) -> None:
    response = client.post("/v1/geolocate?key=test", json={"cellTowers": [lte_tower(999)]})
    assert response.status_code == 200
    body = response.json()
    assert body["fallback"] == "lacf"
    assert body["location"] == {"lat": CENTER[0], "lng": CENTER[1]}
    assert 50_000 <= body["accuracy"] <= 500_000
    disabled = client.post(
        "/v1/geolocate?key=test", json={"cellTowers": [lte_tower(999)], "fallbacks": {"lacf": False}}
    )
    assert_envelope(disabled, 404, "geolocation", "notFound")


def test_geolocate_not_found(client: TestClient) -> None:
    response = client.post(
        "/v1/geolocate?key=test", json={"wifiAccessPoints": [{"macAddress": "00:99:99:99:99:99"}]}
    )
    assert_envelope(response, 404, "geolocation", "notFound")


def test_geolocate_empty_body_is_ip_lookup_not_found_without_geoip(client: TestClient) -> None:
    assert_envelope(client.post("/v1/geolocate?key=test", content=b""), 404, "geolocation", "notFound")
    assert_envelope(client.post("/v1/geolocate?key=test", json={}), 404, "geolocation", "notFound")


def test_geolocate_bad_fields_do_not_fail_the_request(client: TestClient) -> None:
    body = {
        **wifi_body(9, 10),
        "considerIp": "perhaps",
        "cellTowers": "none",
        "bluetoothBeacons": [1, 2, None],
        "fallbacks": 7,
    }
    body["wifiAccessPoints"].append("garbage")
    assert client.post("/v1/geolocate?key=test", json=body).status_code == 200


@pytest.mark.parametrize(
    "url", ["/v1/geolocate", "/v1/geolocate?key=unknown", "/v1/geolocate?key=bad%20key", "/v1/geolocate?key="]
)
def test_geolocate_key_invalid(client: TestClient, url: str) -> None:
    assert_envelope(client.post(url, json=wifi_body(9, 10)), 400, "usageLimits", "keyInvalid")


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"a string"', b"42", b"{", b"\xff\xfe"])
def test_geolocate_parse_error(client: TestClient, body: bytes) -> None:
    response = client.post(
        "/v1/geolocate?key=test", content=body, headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "global", "parseError")


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_geolocate_any_content_type_is_json(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(
        "/v1/geolocate?key=test", content=json.dumps(wifi_body(9, 10)).encode(), headers=headers
    )
    assert response.status_code == 200, response.text


def test_geolocate_gzip_body(client: TestClient) -> None:
    response = client.post(
        "/v1/geolocate?key=test",
        content=gzip.compress(json.dumps(wifi_body(9, 10)).encode()),
        headers={"content-encoding": "gzip"},
    )
    assert response.status_code == 200


def test_geolocate_body_over_64_kib_is_413(client: TestClient) -> None:
    body = json.dumps({"carrier": "x" * (64 * 1024)}).encode()
    assert_envelope(client.post("/v1/geolocate?key=test", content=body), 413, "global", "payloadTooLarge")


def test_get_on_post_endpoint_is_405(client: TestClient) -> None:
    response = client.get("/v1/geolocate?key=test")
    assert_envelope(response, 405, "global", "methodNotAllowed")
    assert response.headers["allow"] == "POST"
    assert client.get("/v2/geosubmit").status_code == 405


def test_unknown_path_is_404_envelope(client: TestClient) -> None:
    assert_envelope(client.post("/v1/nope", json={}), 404, "global", "notFound")
    assert_envelope(client.get("/"), 404, "global", "notFound")


def test_station_store_failure_is_503(make_services: Callable[..., Services], make_client: Client) -> None:
    class Broken:
        def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
            raise ConnectionError("dynamodb down")

        def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]:
            raise ConnectionError("dynamodb down")

    client = make_client(make_services(stations=Broken()))
    assert_envelope(
        client.post("/v1/geolocate?key=test", json=wifi_body(9, 10)), 503, "global", "serviceUnavailable"
    )
    assert_envelope(
        client.post("/v1/search?key=test", json={"wifi": [{"key": "001a2b000001"}]}),
        503,
        "global",
        "serviceUnavailable",
    )


def test_locate_reads_stations_in_one_round(client: TestClient, seeded: MemoryStationStore) -> None:
    before = seeded.batch_gets
    assert (
        client.post(
            "/v1/geolocate?key=test", json={**wifi_body(9, 10), "cellTowers": [lte_tower(DEMO_CELLS[0].cid)]}
        ).status_code
        == 200
    )
    assert seeded.batch_gets - before == 1


# --- legacy search --------------------------------------------------------------------------


def test_search_found(client: TestClient) -> None:
    body = {"wifi": [{"key": demo_mac(WIFI_PREFIX, i), "signal": -60} for i in (9, 10, 11)]}
    response = client.post("/v1/search?key=test", json=body)
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "ok"
    assert set(result) == {"status", "lat", "lon", "accuracy"}
    assert abs(result["lat"] - CENTER[0]) < 0.005 and abs(result["lon"] - CENTER[1]) < 0.01


def test_search_not_found_is_200(client: TestClient) -> None:
    response = client.post("/v1/search?key=test", json={"wifi": [{"key": "009999999999"}]})
    assert response.status_code == 200
    assert response.json() == {"status": "not_found"}


def test_search_legacy_cell_ignores_neighbours(client: TestClient) -> None:
    cell = DEMO_CELLS[0]
    body = {
        "radio": "lte",
        "cell": [
            {"mcc": cell.mcc, "mnc": 1, "lac": -1, "cid": -1, "psc": 5},
            {"mcc": cell.mcc, "mnc": 1, "lac": cell.lac, "cid": cell.cid},
        ],
    }
    result = client.post("/v1/search?key=test", json=body).json()
    assert result["status"] == "ok" and result["accuracy"] >= 1_000


def test_search_requires_key(client: TestClient) -> None:
    assert_envelope(client.post("/v1/search", json={}), 400, "usageLimits", "keyInvalid")


# --- submission -----------------------------------------------------------------------------


def test_geosubmit_v2_keeps_good_reports_only(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    body = {
        "items": [
            v2_item(now_ms, connection={"ip": "203.0.113.9"}),
            v2_item(now_ms, position=None),  # no position
            v2_item(now_ms, wifiAccessPoints=[{"macAddress": "00:1a:2b:aa:00:01"}]),  # one wifi
            "not an item",
            v2_item(now_ms, timestamp=1),  # far past
            v2_item(now_ms, cellTowers=[lte_tower(5)], wifiAccessPoints=[]),
        ]
    }
    response = client.post("/v2/geosubmit", json=body)
    assert response.status_code == 200 and response.json() == {}
    reports = reports_in(queue)
    assert len(reports) == 2
    assert "203.0.113.9" not in json.dumps(reports)
    assert "testclient" not in json.dumps(reports)


def test_geosubmit_with_known_key_attributes_reports(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    assert client.post("/v2/geosubmit?key=test", json={"items": [v2_item(now_ms)]}).status_code == 200
    assert client.post("/v2/geosubmit?key=unknown", json={"items": [v2_item(now_ms)]}).status_code == 200
    digest = key_digest("test", Settings().ip_hash_key)
    assert [r.get("api_key") for r in reports_in(queue)] == [digest, None]
    assert digest != "test" and "test" not in json.dumps(reports_in(queue))


def test_geosubmit_gzip(client: TestClient, queue: MemoryObservationQueue, now_ms: int) -> None:
    payload = gzip.compress(json.dumps({"items": [v2_item(now_ms)] * 3}).encode())
    response = client.post("/v2/geosubmit", content=payload, headers={"content-encoding": "gzip"})
    assert response.status_code == 200 and response.json() == {}
    assert len(reports_in(queue)) == 3


def test_geosubmit_gzip_bomb_is_413(make_services: Callable[..., Services], make_client: Client) -> None:
    services = make_services()
    services.settings.submit_decompressed_limit = 1_024 * 1_024
    client = make_client(services)
    bomb = gzip.compress(b" " * (2 * 1_024 * 1_024))
    response = client.post("/v2/geosubmit", content=bomb, headers={"content-encoding": "gzip"})
    assert_envelope(response, 413, "global", "payloadTooLarge")


@pytest.mark.parametrize("path", ["/v2/geosubmit", "/v1/geosubmit", "/v1/submit"])
@pytest.mark.parametrize("body", [b"", b"   ", b"not json", b"[]", b'"items"'])
def test_submit_unparseable_body_is_400(client: TestClient, path: str, body: bytes) -> None:
    assert_envelope(client.post(path, content=body), 400, "global", "parseError")


def test_geosubmit_object_without_items_is_accepted(
    client: TestClient, queue: MemoryObservationQueue
) -> None:
    for body in ({}, {"items": "nope"}, {"items": [1, 2, 3]}):
        response = client.post("/v2/geosubmit", json=body)
        assert response.status_code == 200 and response.json() == {}
    assert queue.messages == []


def test_geosubmit_v1_flat_items(client: TestClient, queue: MemoryObservationQueue, now_ms: int) -> None:
    item = {
        "latitude": 52.52,
        "longitude": 13.41,
        "timestamp": now_ms,
        "radioType": "gsm",
        "cellTowers": [
            {"mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 2, "cellId": 3}
        ],
    }
    bad = {"latitude": 52.52, "longitude": 13.41, "cellTowers": [{"cellId": -1, "radioType": "cdma"}]}
    response = client.post("/v1/geosubmit", json={"items": [item, bad]})
    assert response.status_code == 200 and response.json() == {}
    (report,) = reports_in(queue)
    assert report["cells"][0]["radio"] == "gsm"


def test_legacy_submit_is_204_empty(client: TestClient, queue: MemoryObservationQueue) -> None:
    body = {
        "items": [
            {
                "lat": 52.52,
                "lon": 13.41,
                "wifi": [{"key": "00:1a:2b:aa:00:01", "signal": -60}, {"key": "001a2baa0002"}],
                "cell": [{"radio": "gsm", "mcc": 262, "mnc": 1, "lac": 2, "cid": 3}],
            }
        ]
    }
    response = client.post("/v1/submit", json=body, headers={"X-Nickname": "someone"})
    assert response.status_code == 204
    assert response.content == b""
    (report,) = reports_in(queue)
    assert len(report["wifi"]) == 2 and "someone" not in json.dumps(report)


def test_submit_requires_key_when_configured(
    make_services: Callable[..., Services], make_client: Client, now_ms: int
) -> None:
    services = make_services()
    services.settings.submit_requires_key = True
    client = make_client(services)
    assert_envelope(
        client.post("/v2/geosubmit", json={"items": [v2_item(now_ms)]}), 400, "usageLimits", "keyInvalid"
    )
    assert_envelope(
        client.post("/v2/geosubmit?key=unknown", json={"items": []}), 400, "usageLimits", "keyInvalid"
    )
    assert client.post("/v2/geosubmit?key=test", json={"items": [v2_item(now_ms)]}).status_code == 200


def test_queue_unavailable_is_503(
    make_services: Callable[..., Services], make_client: Client, now_ms: int
) -> None:
    class Down:
        def send(self, reports: Sequence[dict[str, Any]]) -> int:
            raise QueueUnavailable("sqs down")

    client = make_client(make_services(queue=Down()))
    response = client.post("/v2/geosubmit", json={"items": [v2_item(now_ms)]})
    assert_envelope(response, 503, "global", "serviceUnavailable")
    # Nothing to enqueue: no queue call, success.
    assert client.post("/v2/geosubmit", json={"items": []}).status_code == 200


def test_unexpected_error_is_503_envelope_not_bare_500(
    make_services: Callable[..., Services], make_client: Client, now_ms: int
) -> None:
    class Exploding:
        def send(self, reports: Sequence[dict[str, Any]]) -> int:
            raise RuntimeError("unexpected")

    client = make_client(make_services(queue=Exploding()))
    response = client.post("/v2/geosubmit", json={"items": [v2_item(now_ms)]})
    assert_envelope(response, 503, "global", "serviceUnavailable")


def test_geosubmit_unicode_digit_mnc_is_dropped_not_500(client: TestClient, now_ms: int) -> None:
    tower = {**lte_tower(5), "mobileNetworkCodeStr": "²"}
    response = client.post("/v2/geosubmit", json={"items": [v2_item(now_ms, cellTowers=[tower])]})
    assert response.status_code == 200 and response.json() == {}


def test_geolocate_unicode_digit_mnc_is_ignored_not_500(client: TestClient) -> None:
    tower = {**lte_tower(5), "mobileNetworkCodeStr": "²"}
    response = client.post("/v1/geolocate?key=test", json={**wifi_body(9, 10), "cellTowers": [tower]})
    assert response.status_code == 200


# --- monitoring and OpenAPI -----------------------------------------------------------------


def test_openapi_json_lists_all_post_paths(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {p for p, ops in paths.items() if "post" in ops} == {
        "/v1/geolocate",
        "/v1/region",
        "/v1/country",
        "/v1/search",
        "/v2/geosubmit",
        "/v1/geosubmit",
        "/v1/submit",
        "/v1/transfer",
    }


def test_monitoring_endpoints(make_services: Callable[..., Services], make_client: Client) -> None:
    client = make_client(make_services())
    assert client.get("/__lbheartbeat__").json() == {"status": "OK"}
    heartbeat = client.get("/__heartbeat__")
    assert heartbeat.status_code == 200
    assert heartbeat.json()["database"]["up"] is True and heartbeat.json()["redis"]["up"] is None
    assert set(client.get("/__version__").json()) == {"source", "version", "commit", "build"}

    def down() -> None:
        raise ConnectionError("db down")

    broken = make_client(make_services(database_ping=down)).get("/__heartbeat__")
    assert broken.status_code == 503
    assert broken.json()["database"] == {"up": False, "time": -1}
