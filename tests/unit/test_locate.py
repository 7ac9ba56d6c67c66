"""Pure locate logic: clustering, the Wi-Fi/Bluetooth and cell sources, the searcher, the model."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.geo.distance import haversine_m
from openloc.locate.cell_source import locate_cell_areas, locate_cells
from openloc.locate.clustering import complete_linkage
from openloc.locate.mac_source import BLUE, WIFI, locate_macs, sample_weight, signal_weight
from openloc.locate.query import CellSignal, Estimate, KnownStation, LocateQuery, MacSignal, Source
from openloc.locate.searcher import search
from openloc.model.keys import CellId
from openloc.model.kinds import Radio

BASE = (52.52, 13.41)


def offset(north_m: float, east_m: float, origin: tuple[float, float] = BASE) -> tuple[float, float]:
    lat, lon = origin
    return lat + north_m / 111_320.0, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


def wifi(i: int, north: float, east: float, radius: float = 50.0, samples: int = 10) -> KnownStation:
    lat, lon = offset(north, east)
    return KnownStation(f"wifi#{i:012x}", lat, lon, radius, samples)


def signals(stations: list[KnownStation], signal: int | None = -70) -> list[MacSignal]:
    return [MacSignal(s.key.split("#")[1], signal) for s in stations]


def by_key(stations: list[KnownStation]) -> dict[str, KnownStation]:
    return {s.key: s for s in stations}


# --- clustering -----------------------------------------------------------------------------


def test_complete_linkage_separates_far_groups() -> None:
    near = [wifi(i, 0, i * 50) for i in range(3)]
    far = [wifi(10 + i, 5_000, i * 50) for i in range(2)]
    clusters = complete_linkage(near + far, 500)
    assert sorted(len(c) for c in clusters) == [2, 3]
    for cluster in clusters:
        assert {s.key for s in cluster} in ({s.key for s in near}, {s.key for s in far})


def test_complete_linkage_diameter_bound() -> None:
    # A chain with 400 m steps: single linkage would join all, complete linkage may not.
    chain = [wifi(i, 0, i * 400) for i in range(5)]
    for cluster in complete_linkage(chain, 500):
        for a in cluster:
            for b in cluster:
                assert haversine_m(a.lat, a.lon, b.lat, b.lon) <= 500


def test_complete_linkage_edge_cases() -> None:
    assert complete_linkage([], 500) == []
    single = wifi(1, 0, 0)
    assert complete_linkage([single], 500) == [[single]]


points = st.lists(
    st.tuples(st.floats(-2_000, 2_000), st.floats(-2_000, 2_000)), min_size=1, max_size=8, unique=True
)


@given(points, st.randoms(use_true_random=False))
def test_complete_linkage_partition_and_determinism(coords: list[tuple[float, float]], rnd) -> None:  # type: ignore[no-untyped-def]
    stations = [wifi(i, n, e) for i, (n, e) in enumerate(coords)]
    clusters = complete_linkage(stations, 500)
    flat = [s.key for c in clusters for s in c]
    assert sorted(flat) == sorted(s.key for s in stations)  # a partition
    shuffled = list(stations)
    rnd.shuffle(shuffled)
    again = complete_linkage(shuffled, 500)
    assert sorted(sorted(s.key for s in c) for c in again) == sorted(
        sorted(s.key for s in c) for c in clusters
    )


# --- Wi-Fi / Bluetooth source ---------------------------------------------------------------


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


# --- cell source ----------------------------------------------------------------------------


def lte(cid: int, lac: int = 4711, mnc: str = "01") -> CellId:
    return CellId(Radio.LTE, 262, mnc, lac, cid)


def known_cell(cell: CellId, north: float, east: float, radius: float = 2_000) -> KnownStation:
    return KnownStation(cell.key, *offset(north, east), radius, 100)


def test_locate_cells_weighted_and_clamped() -> None:
    c1, c2 = lte(1), lte(2)
    known = by_key([known_cell(c1, 0, 0), known_cell(c2, 0, 1_000)])
    estimate = locate_cells([CellSignal((c1,), -60), CellSignal((c2,), -110)], known)
    assert estimate is not None and estimate.source is Source.CELL and estimate.fallback is None
    # Closer to the stronger cell.
    assert estimate.lon < offset(0, 500)[1]
    assert 1_000 <= estimate.accuracy <= 50_000


def test_locate_cells_accuracy_floor_and_ceiling() -> None:
    tiny = lte(1)
    est = locate_cells([CellSignal((tiny,), None)], by_key([known_cell(tiny, 0, 0, radius=10)]))
    assert est is not None and est.accuracy == 1_000
    huge = lte(2)
    est = locate_cells([CellSignal((huge,), None)], by_key([known_cell(huge, 0, 0, radius=90_000)]))
    assert est is not None and est.accuracy == 50_000


def test_locate_cells_area_with_most_known_cells_wins() -> None:
    a1, a2, b1 = lte(1, lac=1), lte(2, lac=1), lte(3, lac=2)
    known = by_key([known_cell(a1, 0, 0), known_cell(a2, 0, 100), known_cell(b1, 50_000, 0)])
    estimate = locate_cells([CellSignal((b1,), -50), CellSignal((a1,), -100), CellSignal((a2,), -100)], known)
    assert estimate is not None and set(estimate.used) == {a1.key, a2.key}


def test_locate_cells_tries_each_mnc_spelling() -> None:
    two, three = lte(5, mnc="01"), lte(5, mnc="001")
    known = by_key([known_cell(three, 0, 0)])
    estimate = locate_cells([CellSignal((two, three), -80)], known)
    assert estimate is not None and estimate.used == (three.key,)


def test_locate_cells_unknown() -> None:
    assert locate_cells([CellSignal((lte(1),), -80)], {}) is None
    assert locate_cells([], {}) is None


def test_locate_cell_areas_smallest_area() -> None:
    c1, c2 = lte(1, lac=1), lte(2, lac=2)
    areas = {
        c1.area_key: KnownStation(c1.area_key, *offset(0, 0), 120_000),
        c2.area_key: KnownStation(c2.area_key, *offset(10_000, 0), 3_000),
    }
    estimate = locate_cell_areas([CellSignal((c1,), -80), CellSignal((c2,), -80)], areas)
    assert estimate is not None
    assert estimate.source is Source.CELL_AREA and estimate.fallback == "lacf"
    assert (estimate.lat, estimate.lon) == pytest.approx(offset(10_000, 0))
    assert estimate.accuracy == 50_000  # clamped to the area band
    assert locate_cell_areas([CellSignal((lte(9, lac=9),), -80)], areas) is None


# --- searcher -------------------------------------------------------------------------------


def test_search_prefers_wifi_inside_cell() -> None:
    aps = [wifi(i, 0, i * 30) for i in range(3)]
    cell = lte(1)
    stations = by_key([*aps, known_cell(cell, 0, 0, radius=3_000)])
    query = LocateQuery(wifis=tuple(signals(aps)), cells=(CellSignal((cell,), -80),))
    estimate = search(query, stations, {})
    assert estimate is not None and estimate.source is Source.WIFI


def test_search_cell_beats_wifi_outside_its_circle() -> None:
    aps = [wifi(i, 0, i * 30) for i in range(3)]
    cell = lte(1)
    far_cell = KnownStation(cell.key, *offset(200_000, 0), 2_000, 100)
    stations = by_key([*aps, far_cell])
    query = LocateQuery(wifis=tuple(signals(aps)), cells=(CellSignal((cell,), -80),))
    estimate = search(query, stations, {})
    assert estimate is not None and estimate.source is Source.CELL


def test_search_bluetooth_before_wifi() -> None:
    aps = [wifi(i, 0, i * 30) for i in range(3)]
    beacons = [KnownStation(f"blue#c0ffee00000{i}", *offset(0, i * 20), 15, 5) for i in range(2)]
    query = LocateQuery(wifis=tuple(signals(aps)), blues=tuple(MacSignal(b.key[5:], -70) for b in beacons))
    estimate = search(query, by_key([*aps, *beacons]), {})
    assert estimate is not None and estimate.source is Source.BLUE


def test_search_fallback_order() -> None:
    cell = lte(7)
    area = KnownStation(cell.area_key, *BASE, 5_000)
    geoip = Estimate(1.0, 2.0, 600_000, Source.GEOIP)
    query = LocateQuery(cells=(CellSignal((cell,), -80),))
    lacf = search(query, {}, {cell.area_key: area}, lambda: geoip)
    assert lacf is not None and lacf.fallback == "lacf"
    no_lacf = LocateQuery(cells=query.cells, lacf=False)
    ipf = search(no_lacf, {}, {cell.area_key: area}, lambda: geoip)
    assert ipf is geoip and ipf.fallback == "ipf"
    assert (
        search(
            LocateQuery(cells=query.cells, lacf=False, ipf=False), {}, {cell.area_key: area}, lambda: geoip
        )
        is None
    )
    assert search(LocateQuery(), {}, {}) is None


def test_locate_query_keys_deduplicated() -> None:
    c = lte(1)
    query = LocateQuery(
        wifis=(MacSignal("001a2b000001"),),
        blues=(MacSignal("c0ffee000001"),),
        cells=(CellSignal((c, lte(1, mnc="001"))), CellSignal((c,))),
    )
    assert query.station_keys == [
        "wifi#001a2b000001",
        "blue#c0ffee000001",
        c.key,
        lte(1, mnc="001").key,
    ]
    assert query.area_keys == [c.area_key, lte(1, mnc="001").area_key]
