"""Station footprints: where an access point is from where and how strongly it was heard.

The observations are simulated the way stumblers make them: positions along streets with a little
GPS noise, the signal falling with log-distance path loss plus shadowing (seeded)."""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.aggregate.footprint import MAX_BINS, MODELS, fit_position
from openloc.aggregate.station_update import (
    AggregatedStation,
    Change,
    StationObservation,
    UpdatePolicy,
    merge_aggregated,
    update_station,
)
from openloc.geo.distance import haversine_m
from openloc.model.kinds import StationKind
from openloc.model.records import Bin, Footprint

from tests.unit.aggregate.support import LAT, LON, NOW, WIFI

M_LAT = 111_320.0
M_LON = 111_320.0 * math.cos(math.radians(LAT))
FREE = UpdatePolicy(settle_seconds=0)  # merge every batch: the footprint sees everything


def _latlon(east: float, north: float) -> tuple[float, float]:
    return LAT + north / M_LAT, LON + east / M_LON


def _heard(
    rng: random.Random, ap: tuple[float, float], street: list[tuple[float, float]], tx: float = -35.0
) -> list[StationObservation]:
    """Observations along a street (east, north points) of an access point at `ap`."""
    out = []
    for east, north in street:
        d = max(math.hypot(east - ap[0], north - ap[1]), 1.0)
        signal = round(tx - 28.0 * math.log10(d) + rng.gauss(0, 4))
        if signal < -93:
            continue
        lat, lon = _latlon(east + rng.gauss(0, 3), north + rng.gauss(0, 3))
        out.append(StationObservation(lat, lon, 1.0, signal=signal))
    return out


def _error(record_lat: float | None, record_lon: float | None, ap: tuple[float, float]) -> float:
    assert record_lat is not None and record_lon is not None
    return haversine_m(record_lat, record_lon, *_latlon(*ap))


def _mean_error(observations: list[StationObservation], ap: tuple[float, float]) -> float:
    lat = sum(o.lat for o in observations) / len(observations)
    lon = sum(o.lon for o in observations) / len(observations)
    return haversine_m(lat, lon, *_latlon(*ap))


def _streets() -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Two parallel streets 150 m apart (north = 0 and north = 150), walked every 8 m."""
    along = [float(x) for x in range(-200, 201, 8)]
    return [(x, 0.0) for x in along], [(x, 150.0) for x in along]


def test_access_points_inside_a_block_are_placed_inside_it() -> None:
    """Forty access points inside a block, heard from the two streets along it and the one across
    its end: the plain mean of where they were heard lies on or near the streets (median ~20 m off),
    the footprint fit less than half as far."""
    rng = random.Random(1)
    south, north = _streets()
    west = [(-150.0, float(y)) for y in range(-100, 251, 8)]
    fitted, plain = [], []
    for _ in range(40):
        ap = (rng.uniform(-120, 120), rng.uniform(10, 140))
        observations = _heard(rng, ap, south) + _heard(rng, ap, north) + _heard(rng, ap, west)
        update = update_station(WIFI, None, observations, NOW, FREE)
        assert update.change is Change.NEW and update.record is not None
        fitted.append(_error(update.record.lat, update.record.lon, ap))
        plain.append(_mean_error(observations, ap))
    assert statistics.median(fitted) < statistics.median(plain) / 2


def test_many_batches_give_the_same_answer_as_one() -> None:
    """Incremental: ten batches (one per pass of a stumbler) end within a few metres of one batch
    of everything, with the footprint never above its fixed size."""
    rng = random.Random(11)
    south, north = _streets()
    ap = (-20.0, 55.0)
    passes = [_heard(rng, ap, south if i % 2 else north) for i in range(10)]
    station = None
    for i, batch in enumerate(passes):
        update = update_station(WIFI, station, batch, NOW + timedelta(hours=i), FREE)
        station = update.record
        assert station is not None and station.footprint is not None
        assert len(station.footprint.bins) <= MAX_BINS
    once = update_station(WIFI, None, [o for batch in passes for o in batch], NOW, FREE).record
    assert station is not None and once is not None
    assert haversine_m(station.lat or 0, station.lon or 0, once.lat or 0, once.lon or 0) < 10.0
    assert _error(station.lat, station.lon, ap) < 20.0
    assert station.reach > 0


def test_footprint_is_small_fixed_size_text() -> None:
    rng = random.Random(3)
    street = [(float(x), float(y)) for x in range(-300, 301, 5) for y in (0.0, 150.0)]
    record = update_station(WIFI, None, _heard(rng, (0.0, 70.0), street, tx=-25.0), NOW, FREE).record
    assert record is not None and record.footprint is not None
    assert len(record.footprint.bins) == MAX_BINS
    text = record.footprint.to_text()
    assert len(text) < 300 and Footprint.from_text(text) == record.footprint


def test_a_moved_access_point_starts_a_new_footprint() -> None:
    """Replaced after a year at a new home 8 km away: the old footprint is not carried along."""
    rng = random.Random(5)
    south, _ = _streets()
    first = update_station(WIFI, None, _heard(rng, (0.0, 30.0), south), NOW, FREE).record
    assert first is not None
    moved = [
        replace(o, lat=o.lat + 8_000 / M_LAT) for o in _heard(rng, (0.0, 30.0), south)
    ]  # the same street pattern, 8 km north (beyond Wi-Fi's 5 km consistency distance)
    later = update_station(WIFI, first, moved, NOW + timedelta(days=400), UpdatePolicy(corroborate=False))
    assert later.change is Change.REPLACE and later.record is not None and later.record.footprint is not None
    assert _error(later.record.lat, later.record.lon, (0.0, 8_030.0)) < 40.0
    assert all(abs(north) < 300 for _, north, _, _ in later.record.footprint.bins)


def test_a_station_without_footprint_keeps_its_position_as_a_prior() -> None:
    """A station aggregated before footprints existed (or merged from another instance) has no
    footprint: its position counts for its samples, and new observations add to it."""
    rng = random.Random(9)
    south, _ = _streets()
    legacy = update_station(
        WIFI, None, _heard(rng, (0.0, 20.0), south), NOW, UpdatePolicy(fit_positions=False)
    )
    assert legacy.record is not None and legacy.record.footprint is None
    legacy_record = replace(legacy.record, samples=500)
    after = update_station(WIFI, legacy_record, _heard(rng, (0.0, 20.0), south[:5]), NOW, FREE).record
    assert after is not None and after.footprint is not None
    assert haversine_m(after.lat or 0, after.lon or 0, legacy_record.lat or 0, legacy_record.lon or 0) < 15.0


def test_transfer_keeps_the_weighted_mean_and_drops_the_footprint() -> None:
    rng = random.Random(13)
    south, _ = _streets()
    station = update_station(WIFI, None, _heard(rng, (0.0, 20.0), south), NOW, FREE).record
    assert station is not None and station.footprint is not None
    incoming = AggregatedStation(lat=station.lat or 0, lon=station.lon or 0, weight=5.0, samples=5)
    merged = merge_aggregated(WIFI, station, incoming, NOW + timedelta(hours=1), FREE)
    assert merged.change is Change.CHANGE and merged.record is not None
    assert merged.record.footprint is None and merged.record.reach == 0.0


def test_without_fit_positions_the_station_is_ichnaeas_weighted_mean() -> None:
    rng = random.Random(17)
    south, north = _streets()
    observations = _heard(rng, (0.0, 40.0), south) + _heard(rng, (0.0, 40.0), north)
    record = update_station(WIFI, None, observations, NOW, UpdatePolicy(fit_positions=False)).record
    assert record is not None and record.footprint is None and record.reach == 0.0
    total = sum(o.weight for o in observations)
    assert record.lat == pytest.approx(sum(o.lat * o.weight for o in observations) / total)


def test_cells_have_no_footprint() -> None:
    cell = "cell#lte#262#01#1#2"
    observations = [StationObservation(*_latlon(x, 0.0), 1.0, signal=-80) for x in range(0, 400, 40)]
    record = update_station(cell, None, observations, NOW, FREE).record
    assert record is not None and record.footprint is None


def test_fit_is_unchanged_by_the_order_of_bins() -> None:
    rng = random.Random(21)
    bins = [[rng.uniform(-80, 80), rng.uniform(-80, 80), float(rng.randint(1, 9)), 0.0] for _ in range(8)]
    for b in bins:
        b[3] = b[2] * (-40.0 - 25.0 * math.log10(max(math.hypot(b[0] - 5, b[1] - 12), 1.0)))
    model = MODELS[StationKind.WIFI]
    forward = fit_position([list(b) for b in bins], model)
    backward = fit_position([list(b) for b in reversed(bins)], model)
    assert forward == pytest.approx(backward, abs=1e-6)


def test_the_shape_of_a_footprint_heard_from_one_street_or_two() -> None:
    """Heard along one street, a footprint has no breadth (which side of the street the access point
    is on is the fit's guess); heard from two streets 150 m apart, about half their distance. The
    fitted position's levels fit the path-loss model to within the shadowing; moved 80 m off, they
    do not."""
    rng = random.Random(13)
    south, north = _streets()
    ap = (10.0, 60.0)
    exponent = MODELS[StationKind.WIFI].exponent
    one = update_station(WIFI, None, _heard(rng, ap, south), NOW, FREE).record
    two = update_station(WIFI, None, _heard(rng, ap, south) + _heard(rng, ap, north), NOW, FREE).record
    assert one is not None and one.footprint is not None and two is not None and two.footprint is not None
    narrow, broad = one.footprint.shape(exponent), two.footprint.shape(exponent)
    assert narrow.breadth < 10.0
    assert 50.0 < broad.breadth < 100.0
    assert broad.misfit < 6.0
    moved = Footprint(tuple((e + 80.0, n, c, s) for e, n, c, s in two.footprint.bins))
    assert moved.shape(exponent).misfit > broad.misfit + 2.0
    assert abs(moved.shape(exponent).breadth - broad.breadth) < 1e-6
    assert Footprint().shape(exponent) == (0.0, 0.0, 0.0)


bins = st.lists(
    st.tuples(st.floats(-300, 300), st.floats(-300, 300), st.integers(1, 50), st.floats(-95, -30)),
    min_size=1,
    max_size=MAX_BINS,
)


@given(bins, st.floats(0, 2 * math.pi))
def test_a_footprints_shape_does_not_turn_with_it(found: list[Bin], angle: float) -> None:
    """Breadth, offset and misfit are distances and levels around the station: turning every bin
    about it changes none of them."""
    cos, sin = math.cos(angle), math.sin(angle)
    turned = [(e * cos - n * sin, e * sin + n * cos, c, s) for e, n, c, s in found]
    before, after = Footprint(tuple(found)).shape(2.5), Footprint(tuple(turned)).shape(2.5)
    assert all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-3) for a, b in zip(before, after, strict=True))


@given(
    st.floats(0, 2 * math.pi),
    st.lists(st.floats(-300, 300), min_size=2, max_size=MAX_BINS),
    st.floats(-40, -20),
)
def test_bins_on_a_line_that_fit_the_model_have_no_breadth_and_no_misfit(
    angle: float, along: list[float], power: float
) -> None:
    line = [
        (t * math.cos(angle), t * math.sin(angle), 3, power - 25.0 * math.log10(max(abs(t), 1.0)))
        for t in along
    ]
    shape = Footprint(tuple(line)).shape(2.5)
    assert shape.breadth < 1e-3 and shape.misfit < 1e-3
