"""Submission bodies → validated reports: bad entries and bad reports are dropped one by one."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.api.errors import ApiError
from openloc.api.schemas import GeosubmitRequest, GeosubmitV1Request, LegacySubmitRequest
from openloc.api.submissions import (
    MAX_ENTRIES,
    MAX_ENTRIES_READ,
    WIRE_ITEMS,
    ReportBuilder,
    SubmitLimits,
    cell_observation,
    from_geosubmit_v1,
    from_geosubmit_v2,
    from_legacy_submit,
    read_items,
)
from openloc.model.kinds import Radio

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
WIFIS = [{"macAddress": "00:1a:2b:00:00:01"}, {"macAddress": "00:1a:2b:00:00:02"}]
LTE = {
    "radioType": "lte",
    "mobileCountryCode": 262,
    "mobileNetworkCode": 1,
    "locationAreaCode": 4711,
    "cellId": 5,
}


def builder(api_key: str | None = None) -> ReportBuilder:
    return ReportBuilder(SubmitLimits(now=NOW), api_key)


def v2(*items: dict[str, Any], api_key: str | None = None):  # type: ignore[no-untyped-def]
    return from_geosubmit_v2(GeosubmitRequest.model_validate({"items": list(items)}).items, builder(api_key))


def v2_item(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "timestamp": NOW_MS - 60_000,
        "position": {"latitude": 52.52, "longitude": 13.41, "accuracy": 12.0, "source": "gps"},
        "wifiAccessPoints": WIFIS,
    }
    item.update(overrides)
    return item


def test_v2_good_report() -> None:
    outcome = v2(
        v2_item(
            connection={"ip": "198.51.100.7"},
            cellTowers=[{**LTE, "signalStrength": -90, "serving": 1, "primaryScramblingCode": 7}],
            bluetoothBeacons=[{"macAddress": "c0ffee000001", "signalStrength": -60, "name": "b"}],
        ),
        api_key="test",
    )
    assert not outcome.dropped
    (report,) = outcome.reports
    assert report.timestamp == NOW_MS - 60_000
    assert (report.latitude, report.longitude, report.accuracy) == (52.52, 13.41, 12.0)
    assert [w.mac for w in report.wifi] == ["001a2b000001", "001a2b000002"]
    assert report.cells[0].mnc == "01" and report.cells[0].serving is True and report.cells[0].psc == 7
    assert report.bluetooth[0].name == "b"
    assert report.api_key == "test"
    assert "198.51.100.7" not in report.model_dump_json()  # the IP is never part of a report


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"timestamp": NOW_MS - 91 * 24 * 3600 * 1000}, "report_timestamp"),
        ({"position": None}, "report_position"),
        ({"position": {"latitude": 91, "longitude": 0}}, "report_position"),
        ({"position": {"latitude": 0, "longitude": 0}}, "report_position"),
        ({"position": {"latitude": 52.5}}, "report_position"),
        ({"wifiAccessPoints": WIFIS[:1]}, "report_networks"),
        ({"wifiAccessPoints": [{"macAddress": "00:00:00:00:00:00"}, *WIFIS[:1]]}, "report_networks"),
    ],
)
def test_v2_bad_reports_dropped_individually(overrides: dict[str, Any], reason: str) -> None:
    outcome = v2(v2_item(), v2_item(**overrides), v2_item())
    assert len(outcome.reports) == 2
    assert outcome.dropped[reason] == 1


def test_missing_timestamp_means_now() -> None:
    item = v2_item()
    del item["timestamp"]
    (report,) = v2(item).reports
    assert report.timestamp == NOW_MS


DAY_MS = 24 * 3600 * 1000


@pytest.mark.parametrize(
    ("timestamp", "kept_as"),
    [
        (146_000_000_000, NOW_MS),  # 1974: a clock never set → unknown → the time it was received
        (0, NOW_MS),
        (-5, NOW_MS),
        (1_795_000_000, NOW_MS),  # seconds instead of ms (January 1970 as ms) → unknown
        (978_307_199_999, NOW_MS),  # the last ms of 2000 → unknown
        (978_307_200_000, None),  # 2001-01-01T00:00Z: a plausible time, and old → dropped
        (NOW_MS - 100 * DAY_MS, None),  # 2026 data uploaded 100 days late: old → dropped
        (NOW_MS - 90 * DAY_MS, NOW_MS - 90 * DAY_MS),  # exactly 90 days: kept as sent
        (NOW_MS + 10 * 60 * 1000, NOW_MS + 10 * 60 * 1000),  # within the clock skew: kept as sent
        (NOW_MS + 10 * 60 * 1000 + 1, NOW_MS),  # beyond it: a clock ahead → unknown
        (4_102_444_800_000, NOW_MS),  # 2100 → unknown
    ],
)
def test_implausible_times_are_unknown_and_old_times_are_dropped(timestamp: int, kept_as: int | None) -> None:
    """Ichnaea's rule, from a device's view: a broken clock does not lose the report; the
    retention rule still drops a real old one."""
    outcome = v2(v2_item(timestamp=timestamp))
    if kept_as is None:
        assert outcome.reports == [] and outcome.dropped == Counter({"report_timestamp": 1})
    else:
        (report,) = outcome.reports
        assert report.timestamp == kept_as and not outcome.dropped


def test_bad_entries_dropped_and_counted() -> None:
    outcome = v2(
        v2_item(
            wifiAccessPoints=[
                *WIFIS,
                {"macAddress": "02:00:00:00:00:01"},  # locally administered
                {"macAddress": "00:1a:2b:00:00:03", "ssid": "x_nomap"},
                {"macAddress": None},
            ],
            cellTowers=[LTE, {**LTE, "cellId": -1}, {**LTE, "radioType": "cdma"}],
        )
    )
    (report,) = outcome.reports
    assert len(report.wifi) == 2 and len(report.cells) == 1
    assert outcome.dropped["wifi_entry"] == 3
    assert outcome.dropped["cell_entry"] == 2


def test_optional_values_out_of_range_are_dropped_not_the_report() -> None:
    (report,) = v2(
        v2_item(
            position={
                "latitude": 52.5,
                "longitude": 13.4,
                "accuracy": 5_000_000,
                "altitude": -20_000,
                "heading": 400,
                "speed": 1_000,
                "source": "psychic",
            },
            wifiAccessPoints=[
                {
                    "macAddress": "001a2b000001",
                    "signalStrength": 5,
                    "age": 10**8,
                    "channel": 500,
                    "ssid": "  ",
                },
                {"macAddress": "001a2b000002", "signalStrength": -70, "channel": 6, "ssid": " cafe "},
            ],
        )
    ).reports
    assert (report.accuracy, report.altitude, report.heading, report.speed) == (None, None, None, None)
    assert report.source == "gps"
    first, second = report.wifi
    assert (first.signal, first.age, first.channel, first.ssid) == (None, None, None, None)
    assert (second.signal, second.channel, second.ssid) == (-70, 6, "cafe")


@pytest.mark.parametrize(
    ("radio", "signal", "asu", "expected"),
    [
        ("gsm", -80, None, -80),
        ("gsm", -200, None, None),
        ("gsm", None, 10, 2 * 10 - 113),
        ("wcdma", None, 20, 20 - 116),
        ("lte", None, 40, 40 - 140),
        ("nr", None, 60, 60 - 156),
        ("lte", None, 200, None),
        ("lte", 5, 40, 40 - 140),  # invalid signal, valid asu
    ],
)
def test_cell_signal_from_asu(radio: str, signal: int | None, asu: int | None, expected: int | None) -> None:
    obs = cell_observation(Radio(radio), 262, 1, None, 100, 200, signal=signal, asu=asu)
    assert obs is not None and obs.signal == expected


def test_cell_observation_ranges() -> None:
    obs = cell_observation(Radio.WCDMA, 262, 1, None, 100, 200, psc=600, timing_advance=3, serving=0)
    assert obs is not None
    assert obs.psc is None  # wcdma psc ≤ 511
    assert obs.timing_advance is None  # not meaningful for wcdma
    assert obs.serving is False
    lte = cell_observation(Radio.LTE, 262, 1, "001", 100, 200, psc=500, timing_advance=70)
    assert lte is not None and lte.psc == 500 and lte.timing_advance is None and lte.mnc == "001"
    assert cell_observation(Radio.LTE, 262, 1, None, 100, 200, timing_advance=10).timing_advance == 10  # type: ignore[union-attr]
    assert cell_observation(None, 262, 1, None, 100, 200) is None


def test_android_string_twins() -> None:
    (report,) = v2(
        v2_item(
            wifiAccessPoints=[],
            cellTowers=[
                {
                    "radioType": "lte",
                    "mobileCountryCodeStr": "310",
                    "mobileNetworkCodeStr": "001",
                    "locationAreaCode": 7,
                    "cellId": 9,
                    "arfcn": 100,
                }
            ],
        )
    ).reports
    assert (report.cells[0].mcc, report.cells[0].mnc) == (310, "001")


def test_v1_flat_items_and_top_level_radio() -> None:
    body = {
        "items": [
            {
                "latitude": 52.52,
                "longitude": 13.41,
                "timestamp": NOW_MS,
                "accuracy": 20,
                "radioType": "gsm",
                "cellTowers": [
                    {"mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 1, "cellId": 2}
                ],
            },
            {"latitude": 52.52, "longitude": 13.41, "cellTowers": [{"cellId": -1, "radioType": ""}]},
        ]
    }
    outcome = from_geosubmit_v1(GeosubmitV1Request.model_validate(body).items, builder())
    (report,) = outcome.reports
    assert report.cells[0].radio is Radio.GSM
    assert outcome.dropped["report_networks"] == 1


def _one_cell_report(form: str, item_radio: str | None, cell_radio: str | None):  # type: ignore[no-untyped-def]
    """One report with one cell (GSM-valid ids) in each wire form, radios given or left out."""
    cell = {"mcc": 262, "mnc": 1, "lac": 100, "cid": 200}
    if form == "legacy":
        item: dict[str, Any] = {"lat": 52.52, "lon": 13.41, "cell": [{**cell, "radio": cell_radio}]}
        if item_radio is not None:
            item["radio"] = item_radio
        return from_legacy_submit(LegacySubmitRequest.model_validate({"items": [item]}).items, builder())
    tower = {
        "mobileCountryCode": 262,
        "mobileNetworkCode": 1,
        "locationAreaCode": 100,
        "cellId": 200,
        "radioType": cell_radio,
    }
    if form == "v1":
        item = {"latitude": 52.52, "longitude": 13.41, "cellTowers": [tower]}
        wire: Any = GeosubmitV1Request
        convert: Any = from_geosubmit_v1
    else:
        item = v2_item(wifiAccessPoints=[], cellTowers=[tower])
        wire, convert = GeosubmitRequest, from_geosubmit_v2
    if item_radio is not None:
        item["radioType"] = item_radio
    return convert(wire.model_validate({"items": [item]}).items, builder())


@pytest.mark.parametrize("form", ["v2", "v1", "legacy"])
@pytest.mark.parametrize(
    ("item_radio", "cell_radio", "radio"),
    [
        ("gsm", None, Radio.GSM),  # Ichnaea's test_radio_missing_in_observation
        ("gsm", "", Radio.GSM),  # blank is not sent
        ("gsm", "lte", Radio.LTE),  # test_radio_duplicated: the cell's own radio wins
        (None, "wcdma", Radio.WCDMA),  # test_radio_missing_top_level
        ("umts", None, Radio.WCDMA),
        (None, None, None),  # test_radio_missing: no radio, no cell
        (None, "18", None),  # test_radio_invalid
        ("gsm", "cdma", None),  # a radio OpenLoc does not know is not relabelled
    ],
)
def test_item_level_radio_applies_to_cells_without_one_in_every_form(
    form: str, item_radio: str | None, cell_radio: str | None, radio: Radio | None
) -> None:
    outcome = _one_cell_report(form, item_radio, cell_radio)
    if radio is None:
        assert outcome.reports == [] and outcome.dropped == Counter({"cell_entry": 1, "report_networks": 1})
    else:
        (report,) = outcome.reports
        assert [c.radio for c in report.cells] == [radio] and not outcome.dropped


def test_legacy_submit_iso_time_and_legacy_names() -> None:
    body = {
        "items": [
            {
                "lat": 52.52,
                "lon": 13.41,
                "time": "2026-11-23T11:30:00Z",
                "radio": "gsm",
                "cell": [{"mcc": 262, "mnc": 1, "lac": 100, "cid": 200, "signal": -70}],
                "wifi": [{"key": "00:1a:2b:00:00:01", "signal": -60, "frequency": 2412}],
            },
            {"lat": 52.52, "lon": 13.41, "time": "2026-11-23T11:59:00", "blue": [{"key": "c0ffee000001"}]},
            {"lat": 52.52, "lon": 13.41, "time": "2026-08-01T12:00:00Z", "blue": [{"key": "c0ffee000001"}]},
        ]
    }
    outcome = from_legacy_submit(LegacySubmitRequest.model_validate(body).items, builder())
    first, naive = outcome.reports
    assert first.timestamp == int(datetime(2026, 11, 23, 11, 30, tzinfo=UTC).timestamp() * 1000)
    assert first.cells[0].signal == -70 and first.wifi[0].signal == -60
    assert naive.timestamp == int((NOW - timedelta(minutes=1)).timestamp() * 1000)  # naive = UTC
    assert outcome.dropped == Counter({"report_timestamp": 1})  # August: more than 90 days old


@pytest.mark.parametrize("time", ["1710-02-28", "1970-01-01T00:00:00Z", "not a time", "2026-13-45", "  "])
def test_legacy_time_that_is_unreadable_or_before_2001_is_unknown(time: str) -> None:
    body = {"items": [{"lat": 52.52, "lon": 13.41, "time": time, "blue": [{"key": "c0ffee000001"}]}]}
    outcome = from_legacy_submit(LegacySubmitRequest.model_validate(body).items, builder())
    (report,) = outcome.reports
    assert report.timestamp == NOW_MS and not outcome.dropped


def test_unicode_digit_mcc_string_drops_the_cell() -> None:
    tower = {
        "radioType": "lte",
        "mobileCountryCodeStr": "²",
        "mobileNetworkCode": 1,
        "locationAreaCode": 7,
        "cellId": 9,
    }
    outcome = v2(v2_item(cellTowers=[tower]))
    assert len(outcome.reports) == 1 and outcome.dropped["cell_entry"] == 1


# --- read_items: the caps before validation, one item at a time -----------------------------------

ODD_VALUES = [None, 1, "x", [], [1], {"a": 1}, -1, 1e308, True]


def _item_fields(item: type[Any]) -> list[str]:
    return list(item.model_fields)


@st.composite
def raw_items(draw: st.DrawFn, wire: type[Any]) -> list[Any]:
    """Items as a client might send them: fields of the wire item with odd or good values, entry
    lists of dicts with the entries' own fields, and items that are not objects at all."""
    item_model, lists = WIRE_ITEMS[wire]
    value = st.sampled_from(ODD_VALUES)
    entry_fields = {
        name: list(get_args(item_model.model_fields[name].annotation)[0].model_fields) for name in lists
    }
    good = st.one_of(
        st.integers(-200, 10**6),
        st.floats(-100, 100),
        st.sampled_from(["lte", "01", "00:1a:2b:00:00:07", "262"]),
    )
    entry = st.one_of(
        value,
        st.dictionaries(
            st.sampled_from([f for fields in entry_fields.values() for f in fields]),
            st.one_of(good, value),
            max_size=6,
        ),
    )
    field = st.one_of(
        good,
        value,
        st.lists(entry, max_size=4),
        st.dictionaries(st.sampled_from(["latitude", "longitude", "accuracy"]), good),
    )
    item = st.one_of(value, st.dictionaries(st.sampled_from(_item_fields(item_model)), field, max_size=6))
    return draw(st.lists(item, max_size=6))


@pytest.mark.parametrize("wire", [GeosubmitRequest, GeosubmitV1Request, LegacySubmitRequest])
@given(data=st.data())
def test_read_items_validates_like_the_request_model(wire: type[Any], data: st.DataObject) -> None:
    """Items validated one at a time are exactly the request model's items (what the unit tests
    above pin is unchanged by reading items lazily)."""
    items = data.draw(raw_items(wire))
    expected = [i.model_dump() for i in wire.model_validate({"items": copy.deepcopy(items)}).items]
    dropped: Counter[str] = Counter()
    got = [
        i.model_dump() for i in read_items({"items": items}, wire, dropped, max_items=100, max_entries=1000)
    ]
    assert got == expected and not dropped


@pytest.mark.parametrize("payload", [{}, {"items": None}, {"items": "x"}, {"items": {"a": 1}}])
def test_read_items_of_no_list_is_nothing(payload: dict[str, Any]) -> None:
    assert list(read_items(payload, GeosubmitRequest, Counter(), max_items=1, max_entries=1)) == []


def test_read_items_caps_are_413_before_anything_is_validated() -> None:
    items: list[Any] = [{"wifiAccessPoints": [{}] * 10}] * 5
    with pytest.raises(ApiError) as info:
        read_items({"items": items}, GeosubmitRequest, Counter(), max_items=4, max_entries=1000)
    assert (info.value.status, info.value.reason) == (413, "payloadTooLarge")
    assert "more than 4 reports" in info.value.message
    with pytest.raises(ApiError) as info:
        read_items({"items": items}, GeosubmitRequest, Counter(), max_items=5, max_entries=49)
    assert "more than 49 Wi-Fi, Bluetooth and cell entries" in info.value.message
    assert (
        len(list(read_items({"items": items}, GeosubmitRequest, Counter(), max_items=5, max_entries=50))) == 5
    )


def test_entries_past_the_read_cap_are_dropped_unread_and_counted() -> None:
    wifis = [{"macAddress": f"00:1a:2b:01:{i >> 8:02x}:{i & 255:02x}"} for i in range(2_500)]
    payload = {"items": [v2_item(wifiAccessPoints=wifis)]}
    b = builder()
    items = read_items(payload, GeosubmitRequest, b.outcome.dropped, max_items=10, max_entries=10_000)
    outcome = from_geosubmit_v2(items, b)
    (report,) = outcome.reports
    assert len(report.wifi) == MAX_ENTRIES["wifi"] == 500
    assert MAX_ENTRIES_READ["wifi"] == 1_000
    assert outcome.dropped["wifi_entry"] == 2_500 - 500  # 1 500 unread + 500 read but over the cap
    # only what is read counts towards the submission's entry cap
    assert list(
        read_items(
            {"items": [{"wifiAccessPoints": wifis}]},
            GeosubmitRequest,
            Counter(),
            max_items=1,
            max_entries=1_000,
        )
    )


def test_read_items_releases_each_parsed_item_once_validated() -> None:
    raw: list[Any] = [v2_item(), v2_item()]
    items = read_items({"items": raw}, GeosubmitRequest, Counter(), max_items=10, max_entries=100)
    next(items)
    assert raw[0] is None and raw[1] is not None
    next(items)
    assert raw == [None, None]
