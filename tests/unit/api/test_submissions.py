"""Submission bodies → validated reports: bad entries and bad reports are dropped one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openloc.api.schemas import GeosubmitRequest, GeosubmitV1Request, LegacySubmitRequest
from openloc.api.submissions import (
    ReportBuilder,
    SubmitLimits,
    cell_observation,
    from_geosubmit_v1,
    from_geosubmit_v2,
    from_legacy_submit,
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
        ({"timestamp": NOW_MS + 11 * 60 * 1000}, "report_timestamp"),
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
    obs = cell_observation(radio, 262, 1, None, 100, 200, signal=signal, asu=asu)
    assert obs is not None and obs.signal == expected


def test_cell_observation_ranges() -> None:
    obs = cell_observation("wcdma", 262, 1, None, 100, 200, psc=600, timing_advance=3, serving=0)
    assert obs is not None
    assert obs.psc is None  # wcdma psc ≤ 511
    assert obs.timing_advance is None  # not meaningful for wcdma
    assert obs.serving is False
    lte = cell_observation("lte", 262, 1, "001", 100, 200, psc=500, timing_advance=70)
    assert lte is not None and lte.psc == 500 and lte.timing_advance is None and lte.mnc == "001"
    assert cell_observation("lte", 262, 1, None, 100, 200, timing_advance=10).timing_advance == 10  # type: ignore[union-attr]
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
            {
                "lat": 52.52,
                "lon": 13.41,
                "time": "not a time",
                "cell": [{"radio": "gsm", "mcc": 262, "mnc": 1, "lac": 1, "cid": 2}],
            },
            {"lat": 52.52, "lon": 13.41, "time": "2026-11-23T11:59:00", "blue": [{"key": "c0ffee000001"}]},
        ]
    }
    outcome = from_legacy_submit(LegacySubmitRequest.model_validate(body).items, builder())
    assert len(outcome.reports) == 2
    first, naive = outcome.reports
    assert first.timestamp == int(datetime(2026, 11, 23, 11, 30, tzinfo=UTC).timestamp() * 1000)
    assert first.cells[0].signal == -70 and first.wifi[0].signal == -60
    assert naive.timestamp == int((NOW - timedelta(minutes=1)).timestamp() * 1000)  # naive = UTC
    assert outcome.dropped["report_timestamp"] == 1


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
