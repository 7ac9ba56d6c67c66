"""Contract tests: the request bodies real clients send (../shared/reference/clients.md and the
Ichnaea docs), posted as those clients post them, with the exact response shapes they read."""

from __future__ import annotations

import gzip
import json
from typing import Any

from openloc.api.keys import key_digest
from openloc.settings import Settings
from openloc.store.queue import MemoryObservationQueue
from starlette.testclient import TestClient

KEY_INVALID = {
    "error": {
        "errors": [
            {"domain": "usageLimits", "reason": "keyInvalid", "message": "Missing or invalid API key."}
        ],
        "code": 400,
        "message": "Missing or invalid API key.",
    }
}
NOT_FOUND = {
    "error": {
        "errors": [{"domain": "geolocation", "reason": "notFound", "message": "Not found"}],
        "code": 404,
        "message": "Not found",
    }
}

MICROG_GEOLOCATE = {
    "radioType": "lte",
    "cellTowers": [
        {
            "radioType": "lte",
            "mobileCountryCode": 262,
            "mobileNetworkCode": 1,
            "locationAreaCode": 4711,
            "cellId": 26866945,
            "signalStrength": -95,
            "psc": 123,
            "asu": 45,
        }
    ],
    "wifiAccessPoints": [
        {"macAddress": "00:11:22:33:44:55", "channel": 6, "frequency": 2437, "signalStrength": -70}
    ],
    "fallbacks": {"lacf": True, "ipf": False},
}


def _reports(queue: MemoryObservationQueue) -> list[dict[str, Any]]:
    return [report for body in queue.messages for report in json.loads(body)["reports"]]


def test_microg_geolocate_raw_body_without_content_type(client: TestClient) -> None:
    response = client.post(
        "/v1/geolocate?key=test",
        content=json.dumps(MICROG_GEOLOCATE).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Dalvik/2.1.0"},
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"location", "accuracy"}
    assert set(body["location"]) == {"lat", "lng"}
    assert isinstance(body["accuracy"], float)


def test_google_style_request_with_considerip_false_and_nothing_known(client: TestClient) -> None:
    response = client.post(
        "/v1/geolocate?key=test",
        json={
            "homeMobileCountryCode": 310,
            "homeMobileNetworkCode": 410,
            "radioType": "gsm",
            "carrier": "Vodafone",
            "considerIp": False,
            "cellTowers": [
                {
                    "cellId": 42,
                    "locationAreaCode": 415,
                    "mobileCountryCode": 310,
                    "mobileNetworkCode": 410,
                    "age": 0,
                    "signalStrength": -60,
                    "timingAdvance": 15,
                }
            ],
            "wifiAccessPoints": [
                {
                    "macAddress": "01:23:45:67:89:ab",
                    "signalStrength": -65,
                    "age": 0,
                    "channel": 11,
                    "signalToNoiseRatio": 40,
                }
            ],
        },
    )
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_key_invalid_exact_body(client: TestClient) -> None:
    response = client.post("/v1/geolocate", json={})
    assert response.status_code == 400
    assert response.json() == KEY_INVALID


def test_geoclue_empty_ip_lookup_without_geoip_is_not_found(client: TestClient) -> None:
    response = client.post("/v1/geolocate?key=test", content=b"{}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_neostumbler_gzip_geosubmit(client: TestClient, queue: MemoryObservationQueue, now_ms: int) -> None:
    item = {
        "timestamp": now_ms,
        "position": {"latitude": 60.1699, "longitude": 24.9384, "accuracy": 8.0, "age": -1200, "altitude": 21.5,
                     "heading": 90.0, "speed": 1.4, "pressure": 1012.3, "source": "gps"},
        "wifiAccessPoints": [{"macAddress": "aa:bb:cc:dd:ee:01", "radioType": "802.11ac", "channel": 36,
                              "frequency": 5180, "signalStrength": -61, "ssid": "home", "age": 350}],
        "cellTowers": [
            {"radioType": "lte", "mobileCountryCode": 244, "mobileCountryCodeStr": "244", "mobileNetworkCode": 5,
             "mobileNetworkCodeStr": "05", "locationAreaCode": 4100, "cellId": 12345678, "primaryScramblingCode": 301,
             "asu": 40, "serving": 1, "signalStrength": -75, "timingAdvance": 3, "arfcn": 6300, "age": 900},
            {"radioType": "nr", "mobileCountryCode": 244, "mobileNetworkCodeStr": "05", "locationAreaCode": 70000,
             "cellId": 68_000_000_000, "primaryScramblingCode": 500, "signalStrength": -90},
        ],
        "bluetoothBeacons": [{"macAddress": "11:22:33:44:55:66", "beaconType": 533, "id1": "f7826da6", "id2": "1",
                              "id3": "2", "signalStrength": -80, "age": 100}],
    }  # fmt: skip
    response = client.post(
        "/v2/geosubmit",
        content=gzip.compress(json.dumps({"items": [item]}).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {}
    [report] = _reports(queue)
    assert {(c["radio"], c["mnc"], c["cid"]) for c in report["cells"]} == {
        ("lte", "05", 12345678),
        ("nr", "05", 68_000_000_000),
    }
    assert report["bluetooth"][0]["mac"] == "112233445566"
    # the aa:bb:… Wi-Fi MAC is locally administered (randomised): never collected
    assert report.get("wifi", []) == []


def test_mozstumbler_flat_v1_geosubmit_with_minus_one_values(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    items = [
        {"latitude": 51.507351, "longitude": -0.127758, "timestamp": now_ms, "accuracy": 10.0, "altitude": 42.0,
         "cellTowers": [{"radioType": "wcdma", "cellId": -1, "locationAreaCode": -1, "mobileCountryCode": 234,
                         "mobileNetworkCode": 10, "psc": 215, "asu": 14}],
         "wifiAccessPoints": [{"macAddress": "01:23:45:67:89:ab", "frequency": 2437, "signalStrength": -51}]},
        {"latitude": 51.5074, "longitude": -0.1278, "timestamp": now_ms,
         "cellTowers": [{"radioType": "", "cellId": 5, "locationAreaCode": 7, "mobileCountryCode": 234, "mobileNetworkCode": 10}],
         "wifiAccessPoints": [{"macAddress": "00:23:45:67:89:ab"}, {"macAddress": "00:23:45:67:89:ac"}]},
    ]  # fmt: skip
    response = client.post(
        "/v1/geosubmit?key=test",
        content=gzip.compress(json.dumps({"items": items}).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {}
    reports = _reports(queue)
    # item 1 has only a neighbour cell (-1) and one Wi-Fi: unusable, dropped; item 2 is kept
    assert len(reports) == 1
    assert [w["mac"] for w in reports[0]["wifi"]] == ["0023456789ab", "0023456789ac"]
    assert reports[0]["api_key"] == key_digest(
        "test", Settings().ip_hash_key
    )  # attributed, never stored in full


def test_geoclue_legacy_submit(client: TestClient, queue: MemoryObservationQueue) -> None:
    body = {
        "items": [
            {
                "lat": 48.2082,
                "lon": 16.3738,
                "accuracy": 15,
                "time": "2026-11-23T11:58:00Z",
                "wifi": [{"key": "00:1b:2c:3d:4e:5f", "signal": -60, "frequency": 2412},
                         {"key": "00:1b:2c:3d:4e:60", "signal": -70}],
                "cell": [{"radio": "umts", "cid": 123456, "mcc": 232, "mnc": 1, "lac": 1000}],
            }
        ]
    }  # fmt: skip
    response = client.post("/v1/submit", json=body, headers={"X-Nickname": "someone"})
    assert response.status_code == 204
    assert response.content == b""


def test_legacy_search_example(client: TestClient) -> None:
    response = client.post(
        "/v1/search?key=test",
        json={"radio": "gsm", "cell": [{"radio": "lte", "mcc": 262, "mnc": 1, "lac": 4711, "cid": 26866945}],
              "wifi": [{"key": "01:23:45:67:89:ab"}, {"key": "01:23:45:67:89:cd"}]},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert set(response.json()) == {"status", "lat", "lon", "accuracy"}


def test_region_from_mcc_needs_no_position(client: TestClient) -> None:
    response = client.post(
        "/v1/region?key=test",
        json={
            "cellTowers": [
                {
                    "radioType": "gsm",
                    "mobileCountryCode": 262,
                    "mobileNetworkCode": 2,
                    "locationAreaCode": 1,
                    "cellId": 1,
                }
            ]
        },
    )
    assert response.status_code == 200
    assert response.json() == {"country_code": "DE", "country_name": "Germany"}


def test_country_alias_and_not_found(client: TestClient) -> None:
    response = client.post("/v1/country?key=test", json={})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_region_from_wifi_position(client: TestClient) -> None:
    wifi = [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]
    response = client.post("/v1/region?key=test", json={"wifiAccessPoints": wifi})
    assert response.status_code == 200
    assert response.json() == {"country_code": "DE", "country_name": "Germany"}
