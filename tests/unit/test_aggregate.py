"""Observation weights, grouping by station, the station updater and the aggregation pipeline."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.aggregate.grouping import group_by_station
from openloc.aggregate.station_update import (
    OLD_WEIGHT_CAP,
    Change,
    StationObservation,
    StationUpdate,
    update_station,
)
from openloc.aggregate.weights import (
    accuracy_weight,
    age_weight,
    cell_signal_weight,
    speed_weight,
    wifi_signal_weight,
)
from openloc.geo.distance import haversine_m
from openloc.ingest.pipeline import PipelineStores, PoisonMessage, parse_message, process_reports
from openloc.model.kinds import Radio
from openloc.model.records import StationRecord
from openloc.model.report import BlueObservation, CellObservation, Report, WifiObservation
from openloc.store.archive import MemoryArchive, decode_jsonl_gz
from openloc.store.stations import MemoryStationStore

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEY = "wifi#001a2b000001"

# --- weights --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wifi", "blue", "cell"])
@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6))
def test_accuracy_weight_monotone_non_increasing(kind: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert accuracy_weight(low, kind) >= accuracy_weight(high, kind)
    assert 0 <= accuracy_weight(high, kind) <= 1


def test_accuracy_weight_values() -> None:
    assert accuracy_weight(None, "wifi") == 1.0
    assert accuracy_weight(5, "wifi") == 1.0
    assert accuracy_weight(40, "wifi") == pytest.approx(0.5)
    assert accuracy_weight(201, "wifi") == 0.0
    assert accuracy_weight(101, "blue") == 0.0
    assert accuracy_weight(1000, "cell") > 0
    assert accuracy_weight(1001, "cell") == 0.0


@given(a=st.integers(-(10**6), 10**6), b=st.integers(-(10**6), 10**6))
def test_age_weight_monotone_in_abs_age(a: int, b: int) -> None:
    low, high = sorted((abs(a), abs(b)))
    assert age_weight(low) >= age_weight(high)
    assert age_weight(a) == age_weight(-a)


def test_age_and_speed_weights() -> None:
    assert age_weight(None) == 1.0
    assert age_weight(20_001) == 0.0
    assert speed_weight(None) == 1.0
    assert speed_weight(5) == 1.0
    assert speed_weight(20) == pytest.approx(0.5)
    assert speed_weight(51) == 0.0


def test_signal_weights() -> None:
    assert wifi_signal_weight(None) == wifi_signal_weight(-80) == 1.0
    assert wifi_signal_weight(-50) > wifi_signal_weight(-90)
    for radio in Radio:
        assert cell_signal_weight(radio, None) == pytest.approx(1.0)
    assert cell_signal_weight(Radio.LTE, -70) > cell_signal_weight(Radio.LTE, -120)


# --- grouping -------------------------------------------------------------------------------


def report(**kw) -> Report:  # type: ignore[no-untyped-def]
    values = {"timestamp": 1, "latitude": 52.5, "longitude": 13.4}
    values.update(kw)
    return Report(**values)


def test_group_by_station_keys_and_weights() -> None:
    cell = CellObservation(radio=Radio.LTE, mcc=262, mnc="01", lac=1, cid=2, psc=7)
    grouped = group_by_station(
        [
            report(
                wifi=(WifiObservation(mac="001a2b000001"), WifiObservation(mac="001a2b000002", age=30_000)),
                bluetooth=(BlueObservation(mac="c0ffee000001"),),
                cells=(cell,),
            ),
            report(latitude=52.6, wifi=(WifiObservation(mac="001a2b000001"),), accuracy=500),  # too coarse
        ]
    )
    assert set(grouped) == {"wifi#001a2b000001", "blue#c0ffee000001", "cell#lte#262#01#1#2"}
    assert grouped["wifi#001a2b000001"] == [StationObservation(52.5, 13.4, 1.0, None)]
    assert grouped["cell#lte#262#01#1#2"][0].psc == 7


def test_group_by_station_fast_reports_dropped() -> None:
    assert group_by_station([report(speed=60, wifi=(WifiObservation(mac="001a2b000001"),))]) == {}


# --- station update -------------------------------------------------------------------------


def obs(north_m: float, east_m: float, weight: float = 1.0, psc: int | None = None) -> StationObservation:
    return StationObservation(52.5 + north_m / 111_320, 13.4 + east_m / 67_800, weight, psc)


def updated(key: str, station: StationRecord | None, observations: list[StationObservation]) -> StationRecord:
    """The record written by a NEW or CHANGE update."""
    update = update_station(key, station, observations, NOW)
    assert update.change in (Change.NEW, Change.CHANGE) and update.record is not None
    return update.record


def test_new_station_is_weighted_mean() -> None:
    station = updated(KEY, None, [obs(0, 0, 1), obs(100, 0, 3)])
    assert station.lat == pytest.approx(52.5 + 75 / 111_320)
    assert station.samples == 2 and station.weight == 4 and station.version == 1
    assert station.created == NOW and station.modified == NOW and station.last_seen == "2026-11-23"
    assert station.min_lat == pytest.approx(52.5) and station.max_lat == pytest.approx(52.5 + 100 / 111_320)
    assert 70 <= station.radius <= 80


def test_update_nothing_to_write() -> None:
    assert update_station(KEY, None, [], NOW) == StationUpdate(Change.IGNORED, None, 0)
    assert update_station(KEY, None, [obs(0, 0, 0)], NOW) == StationUpdate(Change.IGNORED, None, 0)


def test_inconsistent_observations_are_not_positioned() -> None:
    # Observations that disagree (> 5 km for Wi-Fi) give a blocked row without position.
    update = update_station(KEY, None, [obs(0, 0), obs(10_000, 0)], NOW)
    assert update.change is Change.NEW_BLOCK and update.record is not None and not update.record.positioned
    # Bluetooth is tighter (100 m).
    assert update_station("blue#c0ffee000001", None, [obs(0, 0), obs(200, 0)], NOW).change is Change.NEW_BLOCK


def test_existing_station_moves_towards_observations() -> None:
    existing = replace(updated(KEY, None, [obs(0, 0, 1)]), weight=3.0)
    moved = updated(KEY, existing, [obs(400, 0, 1)])
    assert moved.lat == pytest.approx(52.5 + 100 / 111_320)
    assert moved.samples == existing.samples + 1 and moved.version == existing.version + 1
    assert moved.max_lat == pytest.approx(52.5 + 400 / 111_320)
    assert moved.created == existing.created


def test_old_weight_is_capped() -> None:
    existing = replace(updated(KEY, None, [obs(0, 0)]), weight=1e8)
    moved = updated(KEY, existing, [obs(1_000, 0, OLD_WEIGHT_CAP)])
    assert moved.lat == pytest.approx(52.5 + 500 / 111_320)


def test_observation_far_from_existing_station_blocks_it() -> None:
    existing = updated(KEY, None, [obs(0, 0)])
    update = update_station(KEY, existing, [obs(6_000, 0)], NOW)
    assert update.change is Change.BLOCK and update.record is not None and not update.record.positioned


def test_unpositioned_station_gets_a_position() -> None:
    unpositioned = StationRecord(key=KEY, samples=4, weight=2.0, version=3, created=NOW)
    station = updated(KEY, unpositioned, [obs(0, 0)])
    assert station.positioned
    assert station.samples == 5 and station.version == 4


batches = st.lists(
    st.tuples(st.floats(-1_000, 1_000), st.floats(-1_000, 1_000), st.floats(0.01, 100)),
    min_size=1,
    max_size=10,
)


@given(batches, st.booleans(), st.randoms(use_true_random=False))
def test_update_station_order_independent(points, existing, rnd) -> None:  # type: ignore[no-untyped-def]
    observations = [obs(n, e, w) for n, e, w in points]
    station = updated(KEY, None, [obs(0, 0, 5)]) if existing else None
    shuffled = list(observations)
    rnd.shuffle(shuffled)
    a = updated(KEY, station, observations)
    b = updated(KEY, station, shuffled)
    assert haversine_m(a.lat, a.lon, b.lat, b.lon) < 0.01  # type: ignore[arg-type]
    assert abs(a.radius - b.radius) <= 1
    assert (a.samples, a.min_lat, a.max_lat, a.min_lon, a.max_lon) == (
        b.samples,
        b.min_lat,
        b.max_lat,
        b.min_lon,
        b.max_lon,
    )
    assert a.weight == pytest.approx(b.weight)


def test_update_station_psc_order_independent() -> None:
    cell = "cell#lte#262#01#1#2"
    forward = updated(cell, None, [obs(0, 0, psc=10), obs(10, 0, psc=20)])
    backward = updated(cell, None, [obs(10, 0, psc=20), obs(0, 0, psc=10)])
    assert forward.psc == backward.psc


# --- pipeline -------------------------------------------------------------------------------


def test_parse_message() -> None:
    body = json.dumps(
        {"reports": [report(wifi=(WifiObservation(mac="001a2b000001"),)).model_dump(mode="json")]}
    )
    (parsed,) = parse_message(body)
    assert parsed.wifi[0].mac == "001a2b000001"
    for bad in ["not json", "[]", '"x"', "{}", '{"reports": [{"latitude": "x"}]}', '{"reports": 5}']:
        with pytest.raises(PoisonMessage):
            parse_message(bad)


def _stores() -> PipelineStores:
    return PipelineStores.in_memory()


def test_process_reports_archives_then_aggregates() -> None:
    stores = _stores()
    wifis = (WifiObservation(mac="001a2b000001"), WifiObservation(mac="001a2b000002"))
    reports = [report(wifi=wifis), report(latitude=52.5001, wifi=wifis)]
    result = process_reports(reports, stores, NOW, message_id="batch-1")
    assert result.reports == 2 and result.observations == 4 and result.stations_written == 2
    assert result.archive_key == "observations/2026/11/23/12/batch-1.jsonl.gz"
    archive = stores.archive
    assert isinstance(archive, MemoryArchive)
    archived = decode_jsonl_gz(archive.objects[result.archive_key])
    assert archived == [r.model_dump(mode="json", exclude_none=True) for r in reports]
    stations = stores.stations
    assert isinstance(stations, MemoryStationStore)
    station = stations.stations["wifi#001a2b000001"]
    assert station.samples == 2 and station.lat == pytest.approx(52.50005)
    # A second message updates the stored station.
    again = process_reports([report(latitude=52.5002, wifi=wifis)], stores, NOW, message_id="batch-2")
    assert again.stations_written == 2 and stations.stations["wifi#001a2b000001"].samples == 3
    assert len(archive.objects) == 2


def test_process_reports_with_nothing_usable_still_archives() -> None:
    stores = _stores()
    result = process_reports([report(speed=100, wifi=(WifiObservation(mac="001a2b000001"),))], stores, NOW)
    assert isinstance(stores.stations, MemoryStationStore) and isinstance(stores.archive, MemoryArchive)
    assert result.stations_written == 0 and stores.stations.stations == {}
    assert result.archive_key in stores.archive.objects
