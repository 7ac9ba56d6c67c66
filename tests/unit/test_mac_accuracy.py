"""Accuracy radii: Wi-Fi/Bluetooth (farthest used station plus a typical reach) and cells (tightest bound)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.geo.distance import haversine_m
from openloc.locate.cell_source import locate_cells
from openloc.locate.mac_source import BLUE, WIFI, accuracy_radius, locate_macs
from openloc.locate.query import CellSignal, KnownStation, MacSignal
from openloc.model.keys import CellId
from openloc.model.kinds import Radio

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


def test_cell_radius_is_the_tightest_bound_of_the_heard_cells() -> None:
    small, wide = CellId(Radio.LTE, 262, "01", 3000, 1), CellId(Radio.LTE, 262, "01", 3000, 2)
    known = {
        small.key: KnownStation(small.key, LAT, LON, 1_500.0, 50),
        wide.key: KnownStation(wide.key, LAT + 2_000 / 111_320, LON, 8_000.0, 50),
    }
    estimate = locate_cells([CellSignal((small,), -70), CellSignal((wide,), -70)], known)
    assert estimate is not None
    bounds = [haversine_m(estimate.lat, estimate.lon, s.lat, s.lon) + s.radius for s in known.values()]
    assert estimate.accuracy == pytest.approx(min(bounds))
