"""The Wi-Fi/Bluetooth source: signal weights, clusters, the robust mean, the cell bound and the
query-dependent radius (docs/accuracy.md)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.geo.distance import haversine_m
from openloc.locate.mac_source import BLUE, WIFI, locate_macs, signal_weight
from openloc.locate.query import Estimate, KnownStation, MacSignal, Source
from openloc.locate.radius import BOUNDS_M

from tests.unit.locate.support import by_key, offset, signals, wifi


def _distance(estimate: Estimate, station: KnownStation) -> float:
    return haversine_m(estimate.lat, estimate.lon, station.lat, station.lon)


def test_signal_weight_is_steep_and_ignores_nonsense() -> None:
    # 10 dB stronger ≈ twice as near: the weight grows ~3×, not Ichnaea's ~1.5×
    assert signal_weight(-50, WIFI) / signal_weight(-60, WIFI) == pytest.approx(10**0.5)
    assert signal_weight(None, WIFI) == signal_weight(WIFI.default_signal, WIFI)
    assert signal_weight(5, WIFI) == signal_weight(WIFI.default_signal, WIFI)  # positive dBm is nonsense


def test_locate_macs_needs_two_known_networks() -> None:
    one = [wifi(1, 0, 0)]
    assert locate_macs(signals(one), by_key(one), WIFI) is None
    # Two networks named, only one known.
    assert locate_macs([*signals(one), MacSignal("00000000abcd", -60)], by_key(one), WIFI) is None


def test_locate_macs_needs_two_that_agree() -> None:
    apart = [wifi(1, 0, 0), wifi(2, 3_000, 0)]
    assert locate_macs(signals(apart), by_key(apart), WIFI) is None


def test_locate_macs_answer_inside_the_cluster() -> None:
    stations = [wifi(i, (i % 2) * 40, (i // 2) * 40) for i in range(4)]
    estimate = locate_macs(signals(stations), by_key(stations), WIFI)
    assert estimate is not None
    assert estimate.source is Source.WIFI and estimate.fallback is None
    assert estimate.score == 4 and set(estimate.used) == {s.key for s in stations}
    assert min(s.lat for s in stations) <= estimate.lat <= max(s.lat for s in stations)
    assert min(s.lon for s in stations) <= estimate.lon <= max(s.lon for s in stations)
    assert BOUNDS_M[Source.WIFI][0] <= estimate.accuracy <= BOUNDS_M[Source.WIFI][1]


def test_the_strongest_network_pulls_the_answer_to_within_a_fifth() -> None:
    a, b = wifi(1, 0, 0), wifi(2, 0, 200)
    near_a = locate_macs([MacSignal(a.key[5:], -45), MacSignal(b.key[5:], -90)], by_key([a, b]), WIFI)
    assert near_a is not None
    # 45 dB apart: the weak network is ~30× farther, so the answer stays within 40 m of the strong one
    assert _distance(near_a, a) < 40 < _distance(near_a, b)


def test_sample_counts_do_not_weigh() -> None:
    """A network heard once is not farther from the client than one heard a thousand times."""
    a, b = wifi(1, 0, 0, samples=1), wifi(2, 0, 100, samples=5_000)
    estimate = locate_macs([MacSignal(a.key[5:], -60), MacSignal(b.key[5:], -60)], by_key([a, b]), WIFI)
    assert estimate is not None
    assert _distance(estimate, a) == pytest.approx(_distance(estimate, b), abs=1.0)


def test_locate_macs_caps_networks_used() -> None:
    stations = [wifi(i, (i % 5) * 20, (i // 5) * 20) for i in range(30)]
    estimate = locate_macs(signals(stations), by_key(stations), WIFI)
    assert estimate is not None and len(estimate.used) == WIFI.max_networks


def test_one_bad_station_inside_the_cluster_barely_moves_the_answer() -> None:
    """Eight networks within 30 m of the client, heard with similar signals, and one placed 400 m
    away (a wrong fix, a moved router) heard just as strongly: it joins the cluster (500 m) but the
    Huber weights leave it a small share, where a plain weighted mean would move ~45 m."""
    good = [wifi(i, 30 * math.cos(i), 30 * math.sin(i), radius=60) for i in range(8)]
    bad = wifi(99, 0, 400, radius=60)
    seen = [MacSignal(s.key[5:], -70) for s in [*good, bad]]
    estimate = locate_macs(seen, by_key([*good, bad]), WIFI)
    clean = locate_macs(seen[:-1], by_key(good), WIFI)
    assert estimate is not None and clean is not None and bad.key in estimate.used
    assert haversine_m(estimate.lat, estimate.lon, clean.lat, clean.lon) < 20


def test_a_moved_access_point_forms_its_own_cluster() -> None:
    """The database still has an access point at its old home 3 km away: the networks around the
    client outvote it, whatever its signal."""
    here = [wifi(i, 10 * i, 0) for i in range(3)]
    moved = wifi(50, 3_000, 0, samples=5_000)
    seen = [*signals(here, -80), MacSignal(moved.key[5:], -40)]
    estimate = locate_macs(seen, by_key([*here, moved]), WIFI)
    assert estimate is not None and moved.key not in estimate.used
    assert _distance(estimate, here[1]) < 30


def test_the_cell_bounds_wifi_clusters() -> None:
    """Two clusters of two; the bigger weight is 2 km away, but the client hears a cell whose
    circle holds only the other one: that one answers, and none answers when no cluster fits."""
    far = [wifi(1, 2_000, 0), wifi(2, 2_030, 0)]
    near = [wifi(3, 0, 0), wifi(4, 0, 30)]
    seen = [*signals(far, -50), *signals(near, -85)]
    unbounded = locate_macs(seen, by_key([*far, *near]), WIFI)
    assert unbounded is not None and set(unbounded.used) == {s.key for s in far}
    cell = Estimate(*offset(0, 0), 800.0, Source.CELL)
    bounded = locate_macs(seen, by_key([*far, *near]), WIFI, bound=cell)
    assert bounded is not None and set(bounded.used) == {s.key for s in near}
    elsewhere = Estimate(*offset(-5_000, 0), 800.0, Source.CELL)
    assert locate_macs(seen, by_key([*far, *near]), WIFI, bound=elsewhere) is None


def test_radius_grows_with_the_spread_of_the_networks() -> None:
    tight = [wifi(i, 5 * i, 0, radius=80, samples=30) for i in range(4)]
    wide = [wifi(i, 120 * i, 0, radius=80, samples=30) for i in range(4)]
    small = locate_macs(signals(tight, -75), by_key(tight), WIFI)
    large = locate_macs(signals(wide, -75), by_key(wide), WIFI)
    assert small is not None and large is not None and small.accuracy < large.accuracy


def test_a_network_heard_far_louder_than_any_stumbler_heard_it_pulls_no_harder_than_the_cap() -> None:
    """A client hears `near` at −45 dBm, but stumblers never heard it above −85 dBm: it stands near
    that network and far from where it was stumbled, where its position was placed. Its level
    counts as −70 (the stumblers' −85 plus 15 dB); without a known loudest level, as heard."""
    near = replace(wifi(1, 0, 0, radius=80, samples=20), loudest=-85.0)
    others = [replace(wifi(i, 0, 120, radius=80, samples=20), loudest=-70.0) for i in (2, 3)]
    seen = [MacSignal(near.key.split("#")[1], -45), *signals(others, -70)]
    capped = locate_macs(seen, by_key([near, *others]), WIFI)
    uncapped = locate_macs(seen, by_key([replace(near, loudest=0.0), *others]), WIFI)
    heard_at_cap = [MacSignal(near.key.split("#")[1], -70), *signals(others, -70)]
    equal = locate_macs(heard_at_cap, by_key([near, *others]), WIFI)
    assert capped is not None and uncapped is not None and equal is not None
    origin = offset(0, 0)
    assert haversine_m(*origin, uncapped.lat, uncapped.lon) < 30  # the loud network all but decides
    assert haversine_m(*origin, capped.lat, capped.lon) > 30
    assert haversine_m(capped.lat, capped.lon, equal.lat, equal.lon) < 1e-6


def test_networks_heard_but_not_known_widen_the_wifi_radius() -> None:
    """Unknown networks do not move the answer, but a client that hears many the database does not
    know stands somewhere less mapped: a wider circle. An unknown MAC and a published identifier
    the database cannot resolve count alike."""
    known = [wifi(i, 20 * i, 10 * i, radius=80, samples=30) for i in range(4)]
    heard = signals(known, -75)
    strangers = [MacSignal(f"0200000000{i:02x}", -60) for i in range(6)]
    alone = locate_macs(heard, by_key(known), WIFI)
    crowded = locate_macs([*heard, *strangers], by_key(known), WIFI)
    hashed = locate_macs(heard, by_key(known), WIFI, unresolved=len(strangers))
    assert alone is not None and crowded is not None and hashed is not None
    assert (crowded.lat, crowded.lon, crowded.used) == (alone.lat, alone.lon, alone.used)
    assert crowded.accuracy > alone.accuracy
    assert hashed.accuracy == crowded.accuracy


def test_networks_placed_from_one_street_far_from_where_they_were_heard_widen_the_radius() -> None:
    """The same networks heard alike give the same answer, but a wider circle when each was
    placed from a single street (no breadth), 60 m away from where it was heard, with levels that
    do not fall off with the distance from its position, than when its footprint surrounds it and
    fits the path-loss model."""
    sure = [
        replace(wifi(i, 20 * i, 10 * i, radius=80, samples=30), breadth=60.0, offset=10.0, misfit=3.0)
        for i in range(4)
    ]
    unsure = [replace(s, breadth=0.0, offset=60.0, misfit=9.0) for s in sure]
    placed, guessed = (
        locate_macs(signals(sure, -75), by_key(sure), WIFI),
        locate_macs(signals(unsure, -75), by_key(unsure), WIFI),
    )
    assert placed is not None and guessed is not None
    assert (guessed.lat, guessed.lon, guessed.used) == (placed.lat, placed.lon, placed.used)
    assert guessed.accuracy > placed.accuracy


def test_bluetooth_uses_its_prefix_and_a_tighter_cluster() -> None:
    a = KnownStation("blue#c0ffee000001", *offset(0, 0), 15, 5)
    b = KnownStation("blue#c0ffee000002", *offset(0, 60), 15, 5)
    known = by_key([a, b])
    seen = [MacSignal("c0ffee000001", -70), MacSignal("c0ffee000002", -70)]
    blue = locate_macs(seen, known, BLUE)
    assert blue is not None and blue.source is Source.BLUE
    assert BOUNDS_M[Source.BLUE][0] <= blue.accuracy <= BOUNDS_M[Source.BLUE][1]
    assert locate_macs(seen, known, WIFI) is None  # the same MACs are not Wi-Fi stations
    c = KnownStation("blue#c0ffee000003", *offset(0, 300), 15, 5)
    assert locate_macs(signals([a, c]), by_key([a, c]), BLUE) is None  # 300 m > 100 m


cluster_points = st.lists(
    st.tuples(st.floats(-100, 100), st.floats(-100, 100), st.integers(-100, -30), st.integers(1, 500)),
    min_size=2,
    max_size=8,
)


@given(cluster_points, st.randoms(use_true_random=False))
def test_locate_macs_permutation_invariant(pts, rnd) -> None:  # type: ignore[no-untyped-def]
    stations = [wifi(i, n, e, samples=s) for i, (n, e, _sig, s) in enumerate(pts)]
    seen = [MacSignal(st_.key[5:], sig) for st_, (_n, _e, sig, _s) in zip(stations, pts, strict=True)]
    known = by_key(stations)
    first = locate_macs(seen, known, WIFI)
    shuffled = list(seen)
    rnd.shuffle(shuffled)
    second = locate_macs(shuffled, known, WIFI)
    assert first is not None and second is not None
    assert second.lat == pytest.approx(first.lat, abs=1e-9)
    assert second.lon == pytest.approx(first.lon, abs=1e-9)
    assert second.accuracy == pytest.approx(first.accuracy, abs=1e-6)
    assert set(second.used) == set(first.used)


@given(
    cluster_points,
    st.floats(2_000, 200_000),
    st.floats(0, 2 * math.pi),
    st.integers(-100, -10),
    st.integers(1, 100_000),
)
def test_one_far_outlier_does_not_move_wifi_answer(pts, distance, bearing, sig, samples) -> None:  # type: ignore[no-untyped-def]
    stations = [wifi(i, n, e, samples=s) for i, (n, e, _sig, s) in enumerate(pts)]
    seen = [MacSignal(st_.key[5:], sig_) for st_, (_n, _e, sig_, _s) in zip(stations, pts, strict=True)]
    without = locate_macs(seen, by_key(stations), WIFI)
    outlier = wifi(999, distance * math.cos(bearing), distance * math.sin(bearing), samples=samples)
    with_outlier = locate_macs([*seen, MacSignal(outlier.key[5:], sig)], by_key([*stations, outlier]), WIFI)
    assert without is not None and with_outlier is not None
    # The cluster spans at most ~283 m; the answer must not move by more than that.
    assert haversine_m(without.lat, without.lon, with_outlier.lat, with_outlier.lon) <= 300
    assert outlier.key not in with_outlier.used


@given(
    st.lists(
        st.tuples(st.floats(-200, 200), st.floats(0, 600), st.integers(1, 5000), st.floats(0, 300)),
        min_size=2,
        max_size=12,
    ),
    st.integers(-100, -20),
)
def test_radius_stays_in_the_documented_bounds(
    rows: list[tuple[float, float, int, float]], level: int
) -> None:
    stations = [
        KnownStation(f"wifi#0012ab{i:06x}", *offset(north, 0), radius, samples, reach)
        for i, (north, radius, samples, reach) in enumerate(rows)
    ]
    estimate = locate_macs(signals(stations, level), by_key(stations), WIFI)
    assert estimate is not None  # all within 400 m: one cluster
    assert BOUNDS_M[Source.WIFI][0] <= estimate.accuracy <= BOUNDS_M[Source.WIFI][1]
