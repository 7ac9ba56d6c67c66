"""The contract's "drop the bad part, keep the request" rule (api/lenient.py) on the wire models
of api/schemas.py."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from openloc.api.locate_query import build_query
from openloc.api.schemas import CellTower, GeosubmitRequest, LocateRequest, WifiAccessPoint


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
