"""The Wi-Fi/Bluetooth source: weights, clusters, outliers and the accuracy radius (the farthest
used station plus a typical reach)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.geo.distance import haversine_m
from openloc.locate.mac_source import BLUE, WIFI, accuracy_radius, locate_macs, sample_weight, signal_weight
from openloc.locate.query import KnownStation, MacSignal, Source

from tests.unit.locate.support import by_key, offset, signals, wifi


def test_signal_and_sample_weights() -> None:
    assert signal_weight(-50, -100) > signal_weight(-80, -100)
    assert signal_weight(None, -100) == signal_weight(-100, -100)
    assert signal_weight(5, -100) == signal_weight(-100, -100)  # positive dBm is nonsense
    assert sample_weight(0) == 0.5
    assert sample_weight(1) == 0.5
    assert sample_weight(1024) == 10.0
    assert sample_weight(10**9) == 10.0


def test_locate_macs_needs_two_known_networks() -> None:
    one = [wifi(1, 0, 0)]
    assert locate_macs(signals(one), by_key(one), WIFI) is None
    # Two networks named, only one known.
    assert locate_macs([*signals(one), MacSignal("00000000abcd", -60)], by_key(one), WIFI) is None


def test_locate_macs_needs_two_that_agree() -> None:
    apart = [wifi(1, 0, 0), wifi(2, 3_000, 0)]
    assert locate_macs(signals(apart), by_key(apart), WIFI) is None


def test_locate_macs_answer_near_cluster() -> None:
    stations = [wifi(i, (i % 2) * 40, (i // 2) * 40) for i in range(4)]
    estimate = locate_macs(signals(stations), by_key(stations), WIFI)
    assert estimate is not None
    assert estimate.source is Source.WIFI
    assert estimate.fallback is None
    assert estimate.score == 4
    assert set(estimate.used) == {s.key for s in stations}
    assert min(s.lat for s in stations) <= estimate.lat <= max(s.lat for s in stations)
    assert min(s.lon for s in stations) <= estimate.lon <= max(s.lon for s in stations)
    assert WIFI.min_accuracy_m <= estimate.accuracy <= WIFI.max_accuracy_m


def test_locate_macs_stronger_signal_pulls_answer() -> None:
    a, b = wifi(1, 0, 0), wifi(2, 0, 200)
    near_a = locate_macs([MacSignal(a.key[5:], -40), MacSignal(b.key[5:], -95)], by_key([a, b]), WIFI)
    near_b = locate_macs([MacSignal(a.key[5:], -95), MacSignal(b.key[5:], -40)], by_key([a, b]), WIFI)
    assert near_a is not None and near_b is not None
    assert haversine_m(near_a.lat, near_a.lon, a.lat, a.lon) < haversine_m(
        near_a.lat, near_a.lon, b.lat, b.lon
    )
    assert haversine_m(near_b.lat, near_b.lon, b.lat, b.lon) < haversine_m(
        near_b.lat, near_b.lon, a.lat, a.lon
    )


def test_locate_macs_caps_networks_used() -> None:
    stations = [wifi(i, (i % 5) * 20, (i // 5) * 20) for i in range(30)]
    estimate = locate_macs(signals(stations), by_key(stations), WIFI)
    assert estimate is not None and len(estimate.used) == WIFI.max_networks


def test_locate_macs_bluetooth_uses_blue_prefix_and_tighter_cluster() -> None:
    a = KnownStation("blue#c0ffee000001", *offset(0, 0), 15, 5)
    b = KnownStation("blue#c0ffee000002", *offset(0, 60), 15, 5)
    known = by_key([a, b])
    seen = [MacSignal("c0ffee000001", -70), MacSignal("c0ffee000002", -70)]
    blue = locate_macs(seen, known, BLUE)
    assert blue is not None and blue.source is Source.BLUE
    assert BLUE.min_accuracy_m <= blue.accuracy <= BLUE.max_accuracy_m
    # The same macs are not Wi-Fi stations.
    assert locate_macs(seen, known, WIFI) is None
    c = KnownStation("blue#c0ffee000003", *offset(0, 300), 15, 5)
    apart = [a, c]
    assert locate_macs(signals(apart), by_key(apart), BLUE) is None  # 300 m > 100 m


cluster_points = st.lists(
    st.tuples(
        st.floats(-100, 100),
        st.floats(-100, 100),
        st.integers(-100, -30),
        st.integers(1, 500),
    ),
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


# --- accuracy radius ------------------------------------------------------------------------------


LAT, LON = 52.52, 13.405


def _station(mac: str, north_m: float, radius: float, samples: int, prefix: str = "wifi#") -> KnownStation:
    return KnownStation(prefix + mac, LAT + north_m / 111_320, LON, radius, samples)


def test_rarely_seen_stations_get_the_typical_range_not_their_zero_radius() -> None:
    known = {s.key: s for s in (_station("0012aa000001", 0, 0, 1), _station("0012aa000002", 40, 0, 1))}
    estimate = locate_macs([MacSignal("0012aa000001", -70), MacSignal("0012aa000002", -70)], known, WIFI)
    assert estimate is not None
    spread = max(haversine_m(estimate.lat, estimate.lon, s.lat, s.lon) for s in known.values())
    assert estimate.accuracy == pytest.approx(spread + WIFI.typical_range_m)


def test_well_observed_wide_stations_keep_their_own_radius() -> None:
    used = [_station(f"0012aa00000{i}", 10 * i, 350, 500) for i in range(3)]
    assert accuracy_radius(LAT, LON, used, WIFI) == pytest.approx(
        20 / 111_320 * 6_371_009 * 3.14159265 / 180 + 350, rel=1e-3
    )


def test_bluetooth_reach_is_shorter_and_clamped() -> None:
    known = {
        s.key: s
        for s in (_station("c4be84000001", 0, 0, 1, "blue#"), _station("c4be84000002", 5, 0, 1, "blue#"))
    }
    estimate = locate_macs([MacSignal("c4be84000001", -70), MacSignal("c4be84000002", -75)], known, BLUE)
    assert estimate is not None
    assert BLUE.typical_range_m <= estimate.accuracy <= BLUE.max_accuracy_m


@given(
    st.lists(
        st.tuples(st.floats(-200, 200), st.floats(0, 600), st.integers(1, 5000)), min_size=2, max_size=12
    )
)
def test_radius_contains_every_used_station_and_stays_in_bounds(rows: list[tuple[float, float, int]]) -> None:
    known = {}
    seen = []
    for i, (north, radius, samples) in enumerate(rows):
        station = _station(f"0012ab{i:06x}", north, radius, samples)
        known[station.key] = station
        seen.append(MacSignal(station.key.removeprefix("wifi#"), -60 - i))
    estimate = locate_macs(seen, known, WIFI)
    assert estimate is not None  # all within 400 m: one cluster
    assert WIFI.min_accuracy_m <= estimate.accuracy <= WIFI.max_accuracy_m
    farthest = max(haversine_m(estimate.lat, estimate.lon, known[k].lat, known[k].lon) for k in estimate.used)
    assert estimate.accuracy >= min(farthest + WIFI.typical_range_m, WIFI.max_accuracy_m) - 1e-6
