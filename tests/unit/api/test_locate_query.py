"""Wire request → LocateQuery: filtering, normalisation, fallbacks, legacy names and caps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from openloc.api.locate_query import build_query, from_search
from openloc.api.schemas import LocateRequest, SearchRequest
from openloc.api.services import Services
from starlette.testclient import TestClient

from tests.unit.api.support import Client


def query_of(payload: dict[str, Any], ip: str | None = None):  # type: ignore[no-untyped-def]
    return build_query(LocateRequest.model_validate(payload), ip)


def test_wifi_filtering_and_normalisation() -> None:
    query = query_of(
        {
            "wifiAccessPoints": [
                {"macAddress": "00:1A:2B:00:00:01", "signalStrength": -60, "age": 100},
                {"macAddress": "00-1a-2b-00-00-01", "signalStrength": -40},  # duplicate, stronger
                {"macAddress": "02:1a:2b:00:00:02"},  # locally administered
                {"macAddress": "01:1a:2b:00:00:03"},  # multicast
                {"macAddress": "00:1a:2b:00:00:04", "ssid": "home_nomap"},
                {"macAddress": "not a mac"},
                {"macAddress": "00:1a:2b:00:00:05", "signalStrength": 5, "age": 9_999_999},
            ]
        }
    )
    assert [(w.mac, w.signal) for w in query.wifis] == [("001a2b000001", -40), ("001a2b000005", None)]
    assert query.wifis[1].age_ms is None


def test_bluetooth_keeps_any_valid_mac() -> None:
    query = query_of(
        {
            "bluetoothBeacons": [
                {"macAddress": "C0:FF:EE:00:00:01", "signalStrength": -70},
                {"macAddress": "00:00:00:00:00:00"},
                {"macAddress": "c0ffee000002", "signalStrength": -200},
            ]
        }
    )
    assert [(b.mac, b.signal) for b in query.blues] == [("c0ffee000001", -70), ("c0ffee000002", None)]


def test_cells_need_all_five_and_top_level_radio_applies() -> None:
    query = query_of(
        {
            "radioType": "lte",
            "cellTowers": [
                {"mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 4711, "cellId": 5},
                {"mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 4711},  # no cid
                {"radioType": "gsm", "mobileCountryCode": 262, "mobileNetworkCode": 1, "psc": 3},
                {
                    "radio": "wcdma",
                    "mobileCountryCode": 262,
                    "mobileNetworkCode": 2,
                    "locationAreaCode": 5,
                    "cellId": 6,
                    "signalStrength": 10,
                },
            ],
        }
    )
    assert [c.ids[0].key for c in query.cells] == ["cell#lte#262#01#4711#5", "cell#wcdma#262#02#5#6"]
    assert query.cells[1].signal is None  # positive dBm dropped
    assert [c.key for c in query.cells[0].ids] == ["cell#lte#262#01#4711#5", "cell#lte#262#001#4711#5"]
    # The cell without a cell id still names its area (the lacf fallback); the psc-only one nothing.
    assert [[a.key for a in c.ids] for c in query.area_cells] == [
        ["area#lte#262#01#4711", "area#lte#262#001#4711"]
    ]


@pytest.mark.parametrize(
    ("tower", "area_keys"),
    [
        ({"locationAreaCode": 4711}, ["area#lte#262#01#4711", "area#lte#262#001#4711"]),
        ({"locationAreaCode": 4711, "cellId": -1}, ["area#lte#262#01#4711", "area#lte#262#001#4711"]),
        ({"locationAreaCode": 4711, "cellId": 2**40}, ["area#lte#262#01#4711", "area#lte#262#001#4711"]),
        ({"locationAreaCode": 4711, "mobileNetworkCodeStr": "01"}, ["area#lte#262#01#4711"]),
        ({"locationAreaCode": -1}, []),  # no area either: neighbour cells with lac −1
        ({"locationAreaCode": 70_000}, []),  # beyond LTE's TAC range
        ({}, []),
    ],
)
def test_cells_without_a_usable_cell_id_are_looked_up_by_area(
    tower: dict[str, Any], area_keys: list[str]
) -> None:
    base = {"radioType": "lte", "mobileCountryCode": 262, "mobileNetworkCode": 1}
    query = query_of({"cellTowers": [{**base, **tower}]})
    assert query.cells == ()
    assert [a.key for c in query.area_cells for a in c.ids] == area_keys
    assert query.area_keys == area_keys


def test_cells_and_area_only_cells_share_the_cell_cap() -> None:
    from openloc.api.locate_query import MAX_CELLS

    base = {"radioType": "lte", "mobileCountryCode": 262, "mobileNetworkCode": 1}
    towers = [{**base, "locationAreaCode": i + 1, "cellId": i + 1} for i in range(10)]
    towers += [{**base, "locationAreaCode": 100 + i} for i in range(200)]
    query = query_of({"cellTowers": towers})
    assert (len(query.cells), len(query.area_cells)) == (10, MAX_CELLS - 10)
    assert len(query.area_keys) == 2 * MAX_CELLS  # one area read of at most 30 keys


def test_cells_without_any_radio_are_dropped() -> None:
    query = query_of(
        {
            "cellTowers": [
                {"mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 1, "cellId": 5}
            ]
        }
    )
    assert query.cells == ()


def test_cells_string_mnc_twin_kept() -> None:
    query = query_of(
        {
            "cellTowers": [
                {
                    "radioType": "nr",
                    "mobileCountryCode": 310,
                    "mobileNetworkCode": 1,
                    "mobileNetworkCodeStr": "001",
                    "locationAreaCode": 70_000,
                    "cellId": 68_719_476_735,
                }
            ]
        }
    )
    assert [c.key for c in query.cells[0].ids] == ["cell#nr#310#001#70000#68719476735"]


def test_duplicate_cells_collapse() -> None:
    cell = {
        "radioType": "lte",
        "mobileCountryCode": 262,
        "mobileNetworkCode": 1,
        "locationAreaCode": 1,
        "cellId": 5,
    }
    assert len(query_of({"cellTowers": [cell, dict(cell)]}).cells) == 1


@pytest.mark.parametrize(
    ("payload", "lacf", "ipf"),
    [
        ({}, True, True),
        ({"considerIp": False}, True, False),
        ({"considerIp": True, "fallbacks": {"ipf": False}}, True, False),
        ({"considerIp": False, "fallbacks": {"ipf": True}}, True, True),
        ({"considerIp": False, "fallbacks": {"lacf": False}}, False, False),
        ({"fallbacks": {}}, True, True),
        ({"fallbacks": {"lacf": False, "ipf": False}}, False, False),
    ],
)
def test_fallback_flags(payload: dict[str, Any], lacf: bool, ipf: bool) -> None:
    query = query_of(payload)
    assert (query.lacf, query.ipf) == (lacf, ipf)


def test_client_ip_passed_through() -> None:
    assert query_of({}, "192.0.2.1").client_ip == "192.0.2.1"


def test_from_search_maps_legacy_names() -> None:
    legacy = SearchRequest.model_validate(
        {
            "radio": "gsm",
            "cell": [
                {"mcc": 262, "mnc": 1, "lac": 100, "cid": 200, "signal": -70},
                {"mcc": 262, "mnc": 1, "lac": -1, "cid": -1, "psc": 3},  # neighbour: ignored for lookup
            ],
            "wifi": [{"key": "00:1a:2b:00:00:01", "signal": -50}, {"key": "001a2b000002", "ssid": "x_nomap"}],
            "blue": [{"key": "c0:ff:ee:00:00:01", "signal": -60}],
            "fallbacks": {"lacf": False},
        }
    )
    request = from_search(legacy)
    assert request.radioType == "gsm"
    assert request.cellTowers[0].cellId == 200 and request.cellTowers[0].signalStrength == -70
    query = build_query(request, None)
    assert [c.ids[0].key for c in query.cells] == ["cell#gsm#262#01#100#200"]
    assert [(w.mac, w.signal) for w in query.wifis] == [("001a2b000001", -50)]
    assert [b.mac for b in query.blues] == ["c0ffee000001"]
    assert query.lacf is False and query.ipf is True


def test_many_locate_entries_are_capped_to_two_lookup_rounds(
    client: TestClient, make_services: Callable[..., Services], make_client: Client
) -> None:
    """A 64 KiB body can name over 1 000 networks; the query keeps a bounded number, so one
    locate reads each kept network once, in at most two BatchGetItem rounds of ≤ 100 keys
    (the strongest Wi-Fi networks first, then the rest) whatever the body holds."""
    from openloc.api.locate_query import MAX_BLUES, MAX_LOCATE_STATIONS, MAX_WIFIS

    wifi = [{"macAddress": f"00:1a:2d:00:{i >> 8:02x}:{i & 255:02x}", "signalStrength": -50 - i % 40}
            for i in range(900)]  # fmt: skip
    blue = [{"macAddress": f"00:1a:2e:00:00:{i:02x}"} for i in range(100)]
    keys: list[int] = []

    class CountingStations:
        def get_stations(self, requested: list[str]) -> dict[str, Any]:
            keys.append(len(requested))
            return {}

        def get_areas(self, requested: list[str]) -> dict[str, Any]:
            return {}

    counting = make_client(make_services(stations=CountingStations()))
    body = json.dumps({"wifiAccessPoints": wifi, "bluetoothBeacons": blue}, separators=(",", ":")).encode()
    assert len(body) < 64 * 1024
    assert counting.post("/v1/geolocate?key=test", content=body).status_code == 404
    assert sum(keys) == MAX_WIFIS + MAX_BLUES
    assert len(keys) == 2
    assert max(keys) <= 100
    assert MAX_LOCATE_STATIONS <= 100
