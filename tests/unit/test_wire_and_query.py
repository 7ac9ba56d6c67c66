"""Lenient wire models (drop the bad part, keep the request) and wire → LocateQuery."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.api.locate_query import build_query, from_search
from openloc.api.schemas import (
    CellTower,
    GeosubmitRequest,
    LocateRequest,
    SearchRequest,
    WifiAccessPoint,
)

# --- lenient models -------------------------------------------------------------------------


def test_wrong_typed_fields_become_none() -> None:
    request = LocateRequest.model_validate(
        {
            "carrier": 42,
            "considerIp": "maybe",
            "homeMobileCountryCode": "abc",
            "radioType": ["lte"],
            "fallbacks": "yes please",
        }
    )
    assert request.carrier is None
    assert request.considerIp is None
    assert request.homeMobileCountryCode is None
    assert request.radioType is None
    assert request.fallbacks is None


def test_numbers_as_strings_are_accepted() -> None:
    tower = CellTower.model_validate(
        {"mobileCountryCode": "262", "mobileNetworkCode": "1", "locationAreaCode": "4711", "cellId": "5"}
    )
    assert (tower.mobileCountryCode, tower.mobileNetworkCode, tower.locationAreaCode, tower.cellId) == (
        262,
        1,
        4711,
        5,
    )
    assert WifiAccessPoint.model_validate({"signalStrength": "-70"}).signalStrength == -70


def test_bool_strings_accepted() -> None:
    request = LocateRequest.model_validate({"considerIp": "false", "fallbacks": {"lacf": "true"}})
    assert request.considerIp is False
    assert request.fallbacks is not None and request.fallbacks.lacf is True


def test_bad_list_entries_dropped_and_non_lists_become_empty() -> None:
    request = LocateRequest.model_validate(
        {
            "wifiAccessPoints": [{"macAddress": "001a2b000001"}, "junk", 3, None, {"macAddress": 5}],
            "cellTowers": {"not": "a list"},
            "bluetoothBeacons": "nope",
        }
    )
    # The dict with a wrong-typed field is kept (field → None); non-objects are dropped.
    assert [w.macAddress for w in request.wifiAccessPoints] == ["001a2b000001", None]
    assert request.cellTowers == []
    assert request.bluetoothBeacons == []


def test_unknown_fields_ignored() -> None:
    request = LocateRequest.model_validate({"whatever": 1, "wifiAccessPoints": [{"bogus": True}]})
    assert len(request.wifiAccessPoints) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
locate_fields = st.sampled_from(
    ["carrier", "considerIp", "radioType", "cellTowers", "wifiAccessPoints", "bluetoothBeacons", "fallbacks"]
)


@given(st.dictionaries(locate_fields, json_values, max_size=7))
def test_any_json_object_validates_and_builds_a_query(payload: dict[str, Any]) -> None:
    request = LocateRequest.model_validate(payload)
    query = build_query(request, None)
    assert isinstance(query.lacf, bool) and isinstance(query.ipf, bool)


@given(st.dictionaries(st.sampled_from(["items", "other"]), json_values, max_size=2))
def test_any_json_object_validates_as_geosubmit(payload: dict[str, Any]) -> None:
    assert isinstance(GeosubmitRequest.model_validate(payload).items, list)


# --- build_query ----------------------------------------------------------------------------


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
