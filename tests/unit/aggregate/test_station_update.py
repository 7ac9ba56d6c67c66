"""The station updater: weighted means, its transition table (Ichnaea data/station.py), the
rate-control policy, its invariants, and the weighted merge of instance sync."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openloc.aggregate.blocking import TEMPORARY_BLOCK_DAYS, station_blocked
from openloc.aggregate.station_update import (
    MAX_DISTANCE_M,
    OLD_WEIGHT_CAP,
    AggregatedStation,
    Change,
    StationObservation,
    StationUpdate,
    UpdatePolicy,
    merge_aggregated,
    update_station,
)
from openloc.geo.distance import EARTH_RADIUS_M, haversine_m
from openloc.model.kinds import StationKind
from openloc.model.records import StationRecord

from tests.unit.aggregate.support import KEYS, LAT, LON, NOW, TODAY, WIFI, positioned, unpositioned, written


def north(metres: float, weight: float = 1.0, psc: int | None = None) -> StationObservation:
    """An observation due north of (LAT, LON): its great-circle distance is exact to ~1e-9 m."""
    return StationObservation(LAT + math.degrees(metres / EARTH_RADIUS_M), LON, weight, psc)


def near(north_m: float, east_m: float, weight: float = 1.0) -> StationObservation:
    return StationObservation(LAT + north_m / 111_320, LON + east_m / 67_800, weight)


# --- no station -----------------------------------------------------------------------------------


def test_no_station_consistent_is_new() -> None:
    update = update_station(WIFI, None, [north(0, 1), north(100, 3)], NOW)
    assert update.change is Change.NEW and update.observations == 2
    record = written(update)
    assert record.positioned and record.version == 1 and record.samples == 2 and record.weight == 4
    assert record.created == NOW and record.modified == NOW and record.last_seen == TODAY.isoformat()
    assert record.block_count == 0 and record.block_first is None


def test_no_station_inconsistent_is_new_block() -> None:
    update = update_station(WIFI, None, [north(0), north(10_000)], NOW)
    assert update.change is Change.NEW_BLOCK and update.observations == 2
    assert update.record == StationRecord(
        key=WIFI,
        created=NOW,
        modified=NOW,
        block_first=TODAY.isoformat(),
        block_last=TODAY.isoformat(),
        block_count=1,
        version=1,
    )
    # The new block is effective straight away.
    assert station_blocked(written(update), TODAY)


def test_nothing_usable_is_ignored() -> None:
    for batch in ([], [north(0, 0)], [north(0, -1)], [north(0, math.nan)], [north(0, math.inf)]):
        assert update_station(WIFI, None, batch, NOW) == StationUpdate(Change.IGNORED, None, 0)
        assert update_station(WIFI, positioned(), batch, NOW) == StationUpdate(Change.IGNORED, None, 0)
    # Zero-weight observations are not considered, nor counted.
    update = update_station(WIFI, None, [north(0), north(50_000, 0)], NOW)
    assert update.change is Change.NEW and update.observations == 1


@pytest.mark.parametrize("kind", sorted(MAX_DISTANCE_M))
def test_batch_consistency_threshold(kind: StationKind) -> None:
    limit = MAX_DISTANCE_M[kind]
    assert update_station(KEYS[kind], None, [north(0), north(limit - 1)], NOW).change is Change.NEW
    assert update_station(KEYS[kind], None, [north(0), north(limit + 1)], NOW).change is Change.NEW_BLOCK


# --- blocked stations -----------------------------------------------------------------------------


def test_blocked_station_ignores_observations() -> None:
    fresh_block = unpositioned(block_last=TODAY.isoformat(), block_count=2)
    update = update_station(WIFI, fresh_block, [north(0), north(10)], NOW)
    assert update == StationUpdate(Change.BLOCKED, None, 2)
    # A positioned station still inside its long-term block (young, blocked once) is ignored too.
    young = positioned(created=NOW - timedelta(days=20), block_count=1, block_last="2026-11-10")
    assert update_station(WIFI, young, [north(0)], NOW).change is Change.BLOCKED


@given(
    points=st.lists(
        st.tuples(st.floats(-200_000, 200_000), st.floats(-200_000, 200_000), st.floats(0.001, 100)),
        min_size=1,
        max_size=8,
    ),
    days_ago=st.integers(0, TEMPORARY_BLOCK_DAYS - 1),
    with_position=st.booleans(),
)
@settings(max_examples=40)
def test_blocked_station_ignores_any_batch(
    points: list[tuple[float, float, float]], days_ago: int, with_position: bool
) -> None:
    base = positioned() if with_position else unpositioned()
    station = replace(base, block_count=1, block_last=(TODAY - timedelta(days=days_ago)).isoformat())
    update = update_station(WIFI, station, [near(n, e, w) for n, e, w in points], NOW)
    assert update == StationUpdate(Change.BLOCKED, None, len(points))


# --- station without position ---------------------------------------------------------------------


def test_unpositioned_consistent_is_change_keeping_history() -> None:
    station = unpositioned()
    update = update_station(WIFI, station, [north(0, 1, psc=3), north(40, 1)], NOW)
    assert update.change is Change.CHANGE
    record = written(update)
    assert record.lat == pytest.approx(LAT + math.degrees(20 / EARTH_RADIUS_M))
    assert record.samples == 2 and record.weight == 2 and record.psc == 3
    assert record.version == station.version + 1 and record.modified == NOW
    assert record.last_seen == TODAY.isoformat()
    assert (record.created, record.region) == (station.created, station.region)
    assert (record.block_first, record.block_last, record.block_count) == (
        station.block_first,
        station.block_last,
        station.block_count,
    )


def test_unpositioned_inconsistent_is_ignored() -> None:
    update = update_station(WIFI, unpositioned(), [north(0), north(6_000)], NOW)
    assert update == StationUpdate(Change.IGNORED, None, 2)


# --- positioned station ---------------------------------------------------------------------------


def test_agreeing_batch_is_merged() -> None:
    station = positioned(weight=3.0)
    update = update_station(WIFI, station, [north(400, 1)], NOW)
    assert update.change is Change.CHANGE
    record = written(update)
    assert haversine_m(LAT, LON, record.lat, record.lon) == pytest.approx(100, abs=1e-6)  # type: ignore[arg-type]
    assert record.samples == 11 and record.weight == 4 and record.version == 6
    assert record.modified == NOW and record.last_seen == TODAY.isoformat()
    assert (record.created, record.region, record.psc) == (station.created, "DE", 7)


@pytest.mark.parametrize("kind", sorted(MAX_DISTANCE_M))
def test_agreement_threshold(kind: StationKind) -> None:
    limit = MAX_DISTANCE_M[kind]
    station = positioned(KEYS[kind])
    assert update_station(KEYS[kind], station, [north(limit - 1)], NOW).change is Change.CHANGE
    assert update_station(KEYS[kind], station, [north(-(limit - 1))], NOW).change is Change.CHANGE
    assert update_station(KEYS[kind], station, [north(limit + 1)], NOW).change is Change.BLOCK
    # One disagreeing observation is enough.
    assert update_station(KEYS[kind], station, [north(0), north(limit + 1)], NOW).change is Change.BLOCK


def test_disagreeing_recent_station_is_blocked() -> None:
    station = positioned()
    update = update_station(WIFI, station, [north(6_000), north(6_010)], NOW)
    assert update.change is Change.BLOCK and update.observations == 2
    assert update.record == replace(
        station,
        lat=None,
        lon=None,
        min_lat=None,
        max_lat=None,
        min_lon=None,
        max_lon=None,
        radius=0.0,
        samples=0,
        weight=0.0,
        last_seen=None,
        block_first=TODAY.isoformat(),
        block_last=TODAY.isoformat(),
        block_count=1,
        modified=NOW,
        version=6,
    )
    assert station_blocked(written(update), TODAY)


def test_block_keeps_first_block_date() -> None:
    station = positioned(block_first="2025-01-01", block_last="2025-01-01", block_count=2)
    record = written(update_station(WIFI, station, [north(9_000)], NOW))
    assert (record.block_first, record.block_last, record.block_count) == ("2025-01-01", TODAY.isoformat(), 3)


def test_inconsistent_batch_blocks_even_an_old_station() -> None:
    for modified in (NOW - timedelta(days=10), NOW - timedelta(days=800)):
        station = positioned(modified=modified)
        assert update_station(WIFI, station, [north(0), north(5_001)], NOW).change is Change.BLOCK
        assert update_station(WIFI, station, [north(8_000), north(14_000)], NOW).change is Change.BLOCK


def test_replace_only_when_old() -> None:
    batch = [north(20_000, 1, psc=9), north(20_100, 3)]
    assert (
        update_station(WIFI, positioned(modified=NOW - timedelta(days=364)), batch, NOW).change
        is Change.BLOCK
    )
    assert (
        update_station(WIFI, positioned(modified=NOW - timedelta(days=365)), batch, NOW).change
        is Change.BLOCK
    )
    station = positioned(modified=NOW - timedelta(days=366))
    update = update_station(WIFI, station, batch, NOW)
    assert update.change is Change.REPLACE
    record = written(update)
    assert haversine_m(LAT, LON, record.lat, record.lon) == pytest.approx(20_075, abs=1e-3)  # type: ignore[arg-type]
    assert record.min_lat == batch[0].lat and record.max_lat == batch[1].lat
    assert record.min_lon == record.max_lon == LON
    assert record.radius == 75 and record.samples == 2 and record.weight == 4 and record.psc == 9
    assert record.created == station.created and record.region == "DE"
    assert record.modified == NOW and record.version == 6 and record.last_seen == TODAY.isoformat()
    # A custom policy moves the boundary.
    shorter = UpdatePolicy(old_days=30)
    assert update_station(WIFI, positioned(), batch, NOW, shorter).change is Change.BLOCK
    assert update_station(
        WIFI, positioned(modified=NOW - timedelta(days=31)), batch, NOW, shorter
    ).change is (Change.REPLACE)


# --- rate control ---------------------------------------------------------------------------------


def established(**changes: object) -> StationRecord:
    """A station with 100 samples, modified an hour ago: well established under the default policy."""
    return replace(positioned(samples=100, modified=NOW - timedelta(hours=1)), **changes)  # type: ignore[arg-type]


def test_well_established_station_is_confirmed_once_a_day() -> None:
    station = established()
    update = update_station(WIFI, station, [north(10)], NOW)
    assert update.change is Change.CONFIRM and update.observations == 1
    assert update.record == replace(station, last_seen=TODAY.isoformat(), version=station.version + 1)
    seen_today = written(update)
    assert update_station(WIFI, seen_today, [north(10)], NOW) == StationUpdate(Change.SETTLED, None, 1)


def test_settle_policy_boundaries() -> None:
    batch = [north(10)]
    assert update_station(WIFI, established(samples=99), batch, NOW).change is Change.CHANGE
    at_limit = positioned(samples=100, modified=NOW - timedelta(seconds=86_400))
    assert update_station(WIFI, at_limit, batch, NOW).change is Change.CHANGE
    just_inside = positioned(samples=100, modified=NOW - timedelta(seconds=86_399))
    assert update_station(WIFI, just_inside, batch, NOW).change is Change.CONFIRM
    assert update_station(WIFI, positioned(samples=100, modified=None), batch, NOW).change is Change.CHANGE
    custom = UpdatePolicy(settle_samples=5, settle_seconds=60)
    assert update_station(
        WIFI, positioned(modified=NOW - timedelta(seconds=30)), batch, NOW, custom
    ).change is (Change.CONFIRM)


def test_settle_policy_disabled() -> None:
    disabled = UpdatePolicy(settle_seconds=0)
    station = established(last_seen=TODAY.isoformat())
    update = update_station(WIFI, station, [north(10)], NOW, disabled)
    assert update.change is Change.CHANGE and written(update).samples == 101


def test_well_established_station_still_blocks_without_corroboration() -> None:
    ichnaea = UpdatePolicy(corroborate=False)
    station = established()
    assert update_station(WIFI, station, [north(6_000)], NOW, ichnaea).change is Change.BLOCK
    assert update_station(WIFI, station, [north(0), north(6_000)], NOW, ichnaea).change is Change.BLOCK
    # With corroboration (the default) one batch from afar only challenges it (test_corroboration.py).
    assert update_station(WIFI, station, [north(6_000)], NOW).change is Change.CHALLENGE


# --- invariants -----------------------------------------------------------------------------------


offsets = st.floats(-8_000, 8_000)


batches = st.lists(st.tuples(offsets, offsets, st.floats(0.01, 100)), min_size=1, max_size=8)


@st.composite
def stations(draw: st.DrawFn) -> StationRecord | None:
    choice = draw(st.sampled_from(["none", "positioned", "unpositioned", "blocked"]))
    if choice == "none":
        return None
    if choice == "unpositioned":
        return unpositioned()
    if choice == "blocked":
        return unpositioned(block_last=TODAY.isoformat())
    return positioned(
        samples=draw(st.integers(0, 200)),
        modified=NOW - timedelta(seconds=draw(st.integers(0, 800 * 86_400))),
        last_seen=draw(st.sampled_from([TODAY.isoformat(), "2026-01-01"])),
    )


@given(stations(), batches)
@settings(max_examples=80)
def test_written_records_are_versioned(
    station: StationRecord | None, points: list[tuple[float, ...]]
) -> None:
    update = update_station(WIFI, station, [near(n, e, w) for n, e, w in points], NOW)
    assert update.observations == len(points)
    if update.change in (Change.BLOCKED, Change.SETTLED, Change.IGNORED):
        assert update.record is None
        return
    record = written(update)
    assert record.key == WIFI
    assert record.version == (station.version if station else 0) + 1
    if update.change is Change.CONFIRM:
        assert station is not None and record.modified == station.modified
    elif update.change is Change.CHALLENGE:  # moved only by the observations near it, if any
        assert station is not None and record.modified in (station.modified, NOW)
    else:
        assert record.modified == NOW
    if station is not None:
        assert (record.created, record.region) == (station.created, station.region)
    assert record.positioned == (update.change not in (Change.BLOCK, Change.NEW_BLOCK))
    if record.positioned:
        assert record.lat is not None and record.lon is not None
        assert record.min_lat is not None and record.max_lat is not None
        assert record.min_lon is not None and record.max_lon is not None
        assert record.min_lat <= record.lat <= record.max_lat
        assert record.min_lon <= record.lon <= record.max_lon


@given(
    batches,
    st.sampled_from(["none", "positioned", "unpositioned"]),
    st.data(),
)
@settings(max_examples=60)
def test_new_and_change_are_order_independent(
    points: list[tuple[float, float, float]], state: str, data: st.DataObject
) -> None:
    observations = [near(n / 6, e / 6, w) for n, e, w in points]  # within 1.4 km: consistent, agreeing
    shuffled = data.draw(st.permutations(observations))
    station = {"none": None, "positioned": positioned(weight=7.5), "unpositioned": unpositioned()}[state]
    a = update_station(WIFI, station, observations, NOW)
    b = update_station(WIFI, station, shuffled, NOW)
    assert a.change is b.change
    assert a.change is (Change.NEW if station is None else Change.CHANGE)
    ra, rb = written(a), written(b)
    for field in ("lat", "lon", "min_lat", "max_lat", "min_lon", "max_lon"):
        assert getattr(ra, field) == pytest.approx(getattr(rb, field), abs=1e-9)
    assert abs(ra.radius - rb.radius) <= 1
    assert (ra.samples, ra.psc, ra.version) == (rb.samples, rb.psc, rb.version)
    assert ra.weight == pytest.approx(rb.weight)


def test_dominant_psc_is_order_independent() -> None:
    cell = KEYS[StationKind.CELL]
    batch = [north(0, 1.0, psc=20), north(10, 0.5, psc=10), north(20, 0.5, psc=10), north(30, 0.1)]
    forward = written(update_station(cell, None, batch, NOW))
    backward = written(update_station(cell, None, batch[::-1], NOW))
    assert forward.psc == backward.psc == 10
    # A batch without PSC keeps the station's.
    assert written(update_station(cell, positioned(cell), [north(5)], NOW)).psc == 7


def test_last_seen_is_the_date_of_now() -> None:
    late = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)
    assert written(update_station(WIFI, None, [north(0)], late)).last_seen == "2026-11-23"


# --- weighted means -------------------------------------------------------------------------------


KEY = "wifi#001a2b000001"


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


# `batches` is bound again on purpose: each @given takes the strategy bound when its test is
# defined (the invariants above draw up to 8 km, this one up to 1 km).
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


# --- merging an aggregated station (instance sync) ------------------------------------------------


CELL_KEY = "cell#lte#262#01#4711#99"


def test_merge_aggregated_blocks_a_disagreeing_station() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    station = StationRecord(
        key=CELL_KEY, lat=52.5, lon=13.4, samples=10, weight=10.0, radius=500,
        created=now - timedelta(days=10), modified=now - timedelta(days=1), version=3,
    )  # fmt: skip
    far = AggregatedStation(lat=48.1, lon=11.6, weight=5.0, samples=5)  # Munich vs Berlin
    update = merge_aggregated(CELL_KEY, station, far, now)
    assert update.change is Change.BLOCK and update.record is not None and update.record.lat is None
    assert merge_aggregated(CELL_KEY, None, AggregatedStation(1.0, 1.0, 0.0, 0), now).change is Change.IGNORED
