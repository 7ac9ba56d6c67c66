"""`/v1/geolocate`, `/v1/region`, `/v1/country` and `/v1/search` in-process, against the demo
seed: answers, fallbacks, lenient input, hashed identifiers and the exact bodies real clients
send (../shared/reference/clients.md and the Ichnaea docs)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from openloc.api.services import Services
from openloc.ingest.demo_seed import BLUE_PREFIX, CENTER, DEMO_CELLS, WIFI_PREFIX, demo_mac
from openloc.locate.query import Source
from openloc.locate.radius import BOUNDS_M
from openloc.model.identifiers import station_digest, station_id
from openloc.model.kinds import StationKind
from openloc.model.records import ApiKeyRecord, StationRecord
from openloc.store.stations import MemoryStationStore
from starlette.testclient import TestClient

from tests.geoip_files import LONDON, write_city_mmdb
from tests.unit.api.support import Client, _services, assert_envelope, lte_tower, wifi_body

# --- geolocate ------------------------------------------------------------------------------------


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


@pytest.mark.parametrize("signals", [(-58, -61, -66), (None, None, None)], ids=["signals", "no-signals"])
def test_geolocate_bluetooth_radius_stays_in_documented_bounds(
    make_services: Callable[..., Services],
    make_client: Client,
    seeded: MemoryStationStore,
    signals: Sequence[int | None],
) -> None:
    """The conformance case: three beacons within 2.2 m of each other (each seen a few times). The
    answer sits among them and its radius is small — inside Bluetooth's documented bounds
    (docs/api.md: 10–100 m), and like Ichnaea's 10–50 m band — not the 52 m of a fixed reach."""
    lat, lon = CENTER[0] + 0.001, CENTER[1] + 0.001
    offsets = [(0.0, 0.0), (1.5, 0.8), (0.4, 1.9)]  # metres north, east: every pair within 2.2 m
    macs = [f"c0ffee10{i:04x}" for i in range(3)]
    for mac, (north, east) in zip(macs, offsets, strict=True):
        b_lat, b_lon = lat + north / 111_320, lon + east / 68_000
        seeded.put_stations([StationRecord(
            key=f"blue#{mac}", lat=b_lat, lon=b_lon, min_lat=b_lat, max_lat=b_lat, min_lon=b_lon, max_lon=b_lon,
            radius=3, samples=4, weight=4.0, reach=6.0, version=1,
        )])  # fmt: skip
    beacons = [
        {"macAddress": mac} | ({"signalStrength": signal} if signal is not None else {})
        for mac, signal in zip(macs, signals, strict=True)
    ]
    response = make_client(make_services()).post("/v1/geolocate?key=test", json={"bluetoothBeacons": beacons})
    assert response.status_code == 200
    body = response.json()
    assert (
        abs(body["location"]["lat"] - lat) * 111_320 < 3 and abs(body["location"]["lng"] - lon) * 68_000 < 3
    )
    assert BOUNDS_M[Source.BLUE] == (10.0, 100.0)  # as documented
    assert 10.0 <= body["accuracy"] <= 50.0


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
    # from the area's real extent (the demo area reaches 3.4 km), not a fixed 50 km
    low, high = BOUNDS_M[Source.CELL_AREA]
    assert low <= body["accuracy"] <= high and 1_000 <= body["accuracy"] <= 2 * 3_400
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


def test_geolocate_unicode_digit_mnc_is_ignored_not_500(client: TestClient) -> None:
    tower = {**lte_tower(5), "mobileNetworkCodeStr": "²"}
    response = client.post("/v1/geolocate?key=test", json={**wifi_body(9, 10), "cellTowers": [tower]})
    assert response.status_code == 200


# --- lenient parsing ------------------------------------------------------------------------------


def test_cell_without_lac_or_with_unknown_radio_is_dropped_not_fatal(client: TestClient) -> None:
    no_lac = {k: v for k, v in lte_tower(DEMO_CELLS[1].cid).items() if k != "locationAreaCode"}
    unknown_radio = {**lte_tower(DEMO_CELLS[2].cid), "radioType": "cdma2000x"}
    # only the unusable cells: nothing to look up, but a clean 404, not an error about the cells
    only_bad = client.post(
        "/v1/geolocate?key=test", json={"cellTowers": [no_lac, unknown_radio], "considerIp": False}
    )
    assert_envelope(only_bad, 404, "geolocation", "notFound")
    # with a usable cell next to them, the usable cell answers exactly (no lacf fallback)
    good = lte_tower(DEMO_CELLS[0].cid)
    mixed = client.post("/v1/geolocate?key=test", json={"cellTowers": [no_lac, unknown_radio, good]})
    assert mixed.status_code == 200 and "fallback" not in mixed.json()
    # with Wi-Fi next to them, Wi-Fi answers
    with_wifi = client.post(
        "/v1/geolocate?key=test", json={**wifi_body(9, 10), "cellTowers": [no_lac, unknown_radio]}
    )
    assert with_wifi.status_code == 200 and "fallback" not in with_wifi.json()


def test_numbers_sent_as_strings_are_accepted(client: TestClient) -> None:
    cell = DEMO_CELLS[0]
    as_text = {
        "radioType": "lte",
        "mobileCountryCode": str(cell.mcc),
        "mobileNetworkCode": cell.mnc,  # "01": the string keeps the two-digit spelling
        "locationAreaCode": f" {cell.lac} ",
        "cellId": str(cell.cid),
        "signalStrength": "-90",
    }
    response = client.post("/v1/geolocate?key=test", json={"cellTowers": [as_text], "considerIp": "false"})
    assert response.status_code == 200 and "fallback" not in response.json()
    wifi = {
        "wifiAccessPoints": [
            {"macAddress": demo_mac(WIFI_PREFIX, i), "signalStrength": "-60"} for i in (9, 10)
        ]
    }
    assert client.post("/v1/geolocate?key=test", json=wifi).status_code == 200


@pytest.mark.parametrize("value", [True, "0x106", "262.5", "1_000", "nan", "٢٦٢"])
def test_ambiguous_number_text_is_dropped(client: TestClient, value: Any) -> None:
    tower = {**lte_tower(DEMO_CELLS[0].cid), "mobileCountryCode": value}
    # the cell lacks its MCC then: not looked up (and no cell-area guess), but the request is served
    response = client.post("/v1/geolocate?key=test", json={"cellTowers": [tower], "considerIp": False})
    assert_envelope(response, 404, "geolocation", "notFound")


# --- hashed identifiers ---------------------------------------------------------------------------


def name_demo_wifis(store: MemoryStationStore, indexes: range) -> None:
    """Give demo Wi-Fi stations a name digest and alias item, as the aggregator would."""
    for i in indexes:
        mac = demo_mac(WIFI_PREFIX, i)
        digest = station_digest(StationKind.WIFI, mac, f"demo-{i}")
        store.stations[f"wifi#{mac}"].name_hash = digest
        store.stations[f"hash#wifi#{digest}"] = StationRecord(
            key=f"hash#wifi#{digest}", alias_of=f"wifi#{mac}"
        )


def hashed(i: int, name: str | None = None) -> dict[str, Any]:
    return {
        "hashedId": station_id(StationKind.WIFI, demo_mac(WIFI_PREFIX, i), name or f"demo-{i}"),
        "signalStrength": -60,
    }


def test_hashed_identifiers_locate_like_macs(client: TestClient, seeded: MemoryStationStore) -> None:
    name_demo_wifis(seeded, range(8, 12))
    by_mac = client.post(
        "/v1/geolocate?key=test",
        json={
            "considerIp": False,
            "wifiAccessPoints": [
                {"macAddress": demo_mac(WIFI_PREFIX, i), "signalStrength": -60} for i in (9, 10, 11)
            ],
        },
    )
    before = seeded.batch_gets
    by_hash = client.post(
        "/v1/geolocate?key=test",
        json={"considerIp": False, "wifiAccessPoints": [hashed(i) for i in (9, 10, 11)]},
    )
    assert by_hash.status_code == 200 and by_hash.json() == by_mac.json()
    assert seeded.batch_gets - before == 2  # aliases, then their stations
    mixed = client.post(
        "/v1/geolocate?key=test",
        json={
            "considerIp": False,
            "wifiAccessPoints": [
                hashed(9),
                {"macAddress": demo_mac(WIFI_PREFIX, 10), "signalStrength": -60},
                hashed(11),
            ],
        },
    )
    assert mixed.json() == by_mac.json()
    # networks the database does not know widen the radius alike, sent by MAC or by identifier
    strangers = [f"00:1b:63:ab:cd:{i:02x}" for i in range(3)]
    with_mac = client.post(
        "/v1/geolocate?key=test",
        json={
            "considerIp": False,
            "wifiAccessPoints": [
                *({"macAddress": demo_mac(WIFI_PREFIX, i), "signalStrength": -60} for i in (9, 10, 11)),
                *({"macAddress": mac, "signalStrength": -55} for mac in strangers),
            ],
        },
    )
    with_id = client.post(
        "/v1/geolocate?key=test",
        json={
            "considerIp": False,
            "wifiAccessPoints": [
                *(hashed(i) for i in (9, 10, 11)),
                *(
                    {"hashedId": station_id(StationKind.WIFI, mac, "elsewhere"), "signalStrength": -55}
                    for mac in strangers
                ),
            ],
        },
    )
    assert with_mac.status_code == 200 and with_id.json() == with_mac.json()
    assert with_mac.json()["location"] == by_mac.json()["location"]
    assert with_mac.json()["accuracy"] > by_mac.json()["accuracy"]


def test_stale_or_wrong_name_hashes_do_not_answer(client: TestClient, seeded: MemoryStationStore) -> None:
    name_demo_wifis(seeded, range(8, 12))
    wrong = client.post(
        "/v1/geolocate?key=test",
        json={"considerIp": False, "wifiAccessPoints": [hashed(9, "x"), hashed(10, "y")]},
    )
    assert wrong.status_code == 404
    # A renamed network: the alias of the old name remains but no longer matches the station.
    seeded.stations[f"wifi#{demo_mac(WIFI_PREFIX, 9)}"].name_hash = station_digest(
        "wifi", demo_mac(WIFI_PREFIX, 9), "new"
    )
    stale = client.post(
        "/v1/geolocate?key=test", json={"considerIp": False, "wifiAccessPoints": [hashed(9), hashed(10)]}
    )
    assert stale.status_code == 404


@pytest.mark.parametrize(
    "value",
    ["v2:" + "0" * 32, "v1:" + "0" * 31, "v1:" + "z" * 32, "0" * 32, "", "v1:", "v1:" + "0" * 64],
)
@pytest.mark.parametrize("field", ["wifiAccessPoints", "bluetoothBeacons"])
def test_bad_hashed_identifiers_are_parse_errors(client: TestClient, value: str, field: str) -> None:
    response = client.post("/v1/geolocate?key=test", json={field: [{"hashedId": value}, hashed(9)]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400 and error["errors"][0]["reason"] == "parseError"
    assert client.post("/v1/region?key=test", json={field: [{"hashedId": value}]}).status_code == 400


# --- region caching hint --------------------------------------------------------------------------


def test_region_answer_carries_a_cache_hint_and_errors_do_not(client: TestClient) -> None:
    found = client.post("/v1/region?key=test", json={"cellTowers": [lte_tower(DEMO_CELLS[0].cid)]})
    assert found.status_code == 200
    assert found.headers["cache-control"] == "private, max-age=86400"
    assert (
        client.post("/v1/country?key=test", json=wifi_body(9, 10))
        .headers["cache-control"]
        .startswith("private, max-age=")
    )
    not_found = client.post("/v1/region?key=test", json={})
    assert not_found.status_code == 404 and "cache-control" not in not_found.headers
    assert "cache-control" not in client.post("/v1/region", json={}).headers
    assert "cache-control" not in client.post("/v1/geolocate?key=test", json=wifi_body(9, 10)).headers


def test_region_cache_hint_can_be_turned_off(
    make_services: Callable[..., Services], make_client: Client
) -> None:
    client = make_client(_services(make_services, region_cache_seconds=0))
    response = client.post("/v1/region?key=test", json={"cellTowers": [lte_tower(DEMO_CELLS[0].cid)]})
    assert response.status_code == 200 and "cache-control" not in response.headers


# --- legacy search --------------------------------------------------------------------------------


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


# --- real clients' requests, with the exact response bodies they read -----------------------------


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


# --- Ichnaea's requests (the divergences found by replaying its API tests) -------------------------

# A known demo area, named without a cell id (Ichnaea's area lookup: `model_query` of a CellArea).
AREA_ONLY = {"radioType": "lte", "mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 4711}


def test_area_lookup_without_a_cell_id_answers_the_area(client: TestClient) -> None:
    response = client.post("/v1/geolocate?key=test", json={"cellTowers": [AREA_ONLY]})
    assert response.status_code == 200
    body = response.json()
    assert body["fallback"] == "lacf"
    assert body["location"] == {"lat": CENTER[0], "lng": CENTER[1]}
    # The same answer as the same area named with a cell id nobody knows.
    unknown_cell = client.post("/v1/geolocate?key=test", json={"cellTowers": [{**AREA_ONLY, "cellId": 999}]})
    assert body == unknown_cell.json()
    refused = client.post(
        "/v1/geolocate?key=test", json={"cellTowers": [AREA_ONLY], "fallbacks": {"lacf": False}}
    )
    assert_envelope(refused, 404, "geolocation", "notFound")
    unknown_area = client.post(
        "/v1/geolocate?key=test", json={"cellTowers": [{**AREA_ONLY, "locationAreaCode": 7}]}
    )
    assert_envelope(unknown_area, 404, "geolocation", "notFound")


def test_area_lookup_without_a_cell_id_in_search_and_region(client: TestClient) -> None:
    legacy = {"cell": [{"radio": "lte", "mcc": 262, "mnc": 1, "lac": 4711}]}
    search = client.post("/v1/search?key=test", json=legacy).json()
    assert search == {"status": "ok", "lat": CENTER[0], "lon": CENTER[1], "accuracy": search["accuracy"],
                      "fallback": "lacf"}  # fmt: skip
    # Its MCC names the country at once (no fallback needed, as for a cell with an id).
    region = client.post("/v1/region?key=test", json={"cellTowers": [AREA_ONLY]})
    assert region.json() == {"country_code": "DE", "country_name": "Germany"}


def test_area_only_cells_cost_one_area_read_and_no_station_keys(
    make_services: Callable[..., Services], make_client: Client, seeded: MemoryStationStore
) -> None:
    """A body full of area-only cells stays one bounded area read (≤ 2 × MAX_CELLS keys)."""
    from openloc.api.locate_query import MAX_CELLS

    reads: list[tuple[str, int]] = []

    class CountingStations:
        def get_stations(self, requested: Sequence[str]) -> dict[str, StationRecord]:
            reads.append(("stations", len(requested)))
            return seeded.get_stations(requested)

        def get_areas(self, requested: Sequence[str]) -> dict[str, StationRecord]:
            reads.append(("areas", len(requested)))
            return seeded.get_areas(requested)

    towers = [{**AREA_ONLY, "locationAreaCode": lac} for lac in range(4000, 4500)]
    client = make_client(make_services(stations=CountingStations()))
    response = client.post("/v1/geolocate?key=test", json={"cellTowers": towers})
    assert response.status_code == 404  # 4711 is past the first MAX_CELLS areas
    assert reads == [("stations", 0), ("areas", 2 * MAX_CELLS)]


@pytest.fixture(scope="module")
def geoip_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_city_mmdb(tmp_path_factory.mktemp("geoip") / "city.mmdb")


LONDON_IP = {"X-Forwarded-For": "81.2.69.142"}
IP_ANSWERS = {
    "/v1/geolocate": {
        "location": {"lat": LONDON[0], "lng": LONDON[1]},
        "accuracy": 25_000.0,
        "fallback": "ipf",
    },
    "/v1/region": {"country_code": "GB", "country_name": "United Kingdom", "fallback": "ipf"},
    "/v1/country": {"country_code": "GB", "country_name": "United Kingdom", "fallback": "ipf"},
    "/v1/search": {
        "status": "ok",
        "lat": LONDON[0],
        "lon": LONDON[1],
        "accuracy": 25_000.0,
        "fallback": "ipf",
    },
}


@pytest.mark.parametrize(("path", "answer"), IP_ANSWERS.items())
def test_get_is_the_ip_query_of_an_empty_post(
    make_services: Callable[..., Services], make_client: Client, geoip_file: str, path: str, answer: Any
) -> None:
    """Ichnaea's `test_get`: a GET answers what an empty POST answers, by the client's IP."""
    client = make_client(_services(make_services, geoip_file, trusted_proxy_hops=1))
    get = client.get(f"{path}?key=test", headers=LONDON_IP)
    assert get.status_code == 200 and get.json() == answer
    assert client.post(f"{path}?key=test", content=b"", headers=LONDON_IP).json() == answer
    # Whatever a GET carries, it is the IP query: a body is not read.
    with_body = client.request("GET", f"{path}?key=test", headers=LONDON_IP, json=wifi_body(9, 10))
    assert with_body.json() == answer
    head = client.head(f"{path}?key=test", headers=LONDON_IP)
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize("path", IP_ANSWERS)
def test_get_needs_the_same_key_and_permission_as_post(
    make_services: Callable[..., Services], make_client: Client, key_store: Any, path: str
) -> None:
    key_store.put(ApiKeyRecord(key="no-locate", allow_locate=False, allow_region=False))
    client = make_client(make_services())
    for url in [path, f"{path}?key=unknown", f"{path}?key=no-locate"]:
        assert_envelope(client.get(url), 400, "usageLimits", "keyInvalid")


def test_get_answers_carry_cors_and_the_not_found_of_each_endpoint(client: TestClient) -> None:
    origin = {"Origin": "https://maps.example.org"}
    geolocate = client.get("/v1/geolocate?key=test", headers=origin)  # no GeoIP database here
    assert_envelope(geolocate, 404, "geolocation", "notFound")
    search = client.get("/v1/search?key=test", headers=origin)
    assert search.status_code == 200 and search.json() == {"status": "not_found"}
    for response in (geolocate, search):
        assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/v1/geolocate", "/v1/region", "/v1/country"])
def test_considerip_false_holds_when_fallbacks_leave_out_ipf(
    make_services: Callable[..., Services], make_client: Client, geoip_file: str, path: str
) -> None:
    """Kept on purpose (docs/api.md, "Differences from Ichnaea"): Ichnaea ignored `considerIp`
    once `fallbacks` was sent and answered from the IP; `fallbacks.ipf` still wins when sent."""
    client = make_client(_services(make_services, geoip_file, trusted_proxy_hops=1))
    body: dict[str, Any] = {"considerIp": False, "fallbacks": {"lacf": True}}
    assert_envelope(
        client.post(f"{path}?key=test", json=body, headers=LONDON_IP), 404, "geolocation", "notFound"
    )
    body["fallbacks"]["ipf"] = True
    assert client.post(f"{path}?key=test", json=body, headers=LONDON_IP).json() == IP_ANSWERS[path]
