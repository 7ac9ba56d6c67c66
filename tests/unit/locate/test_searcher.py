"""The searcher: which source answers, and the fallback order (lacf, then ipf)."""

from __future__ import annotations

from openloc.locate.query import CellSignal, Estimate, KnownStation, LocateQuery, MacSignal, Source
from openloc.locate.searcher import search

from tests.unit.locate.support import BASE, by_key, known_cell, lte, offset, signals, wifi


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


def test_bluetooth_that_disagrees_with_wifi_loses() -> None:
    """Two beacons 3 km from the access points the client hears (a beacon carried away, or placed
    wrongly): the Wi-Fi answer, which they lie far outside, answers."""
    aps = [wifi(i, 0, i * 30) for i in range(4)]
    beacons = [KnownStation(f"blue#c0ffee00000{i}", *offset(3_000, i * 20), 15, 5) for i in range(2)]
    query = LocateQuery(wifis=tuple(signals(aps)), blues=tuple(MacSignal(b.key[5:], -70) for b in beacons))
    estimate = search(query, by_key([*aps, *beacons]), {})
    assert estimate is not None and estimate.source is Source.WIFI


def test_the_cell_picks_the_wifi_cluster_it_contains() -> None:
    """The client hears three access points here and four that the database places 8 km away
    (moved house together): the exact cell it hears decides, not the larger cluster."""
    here = [wifi(i, 0, i * 30) for i in range(3)]
    away = [wifi(10 + i, 8_000, i * 30) for i in range(4)]
    cell = lte(1)
    stations = by_key([*here, *away, known_cell(cell, 0, 0, radius=1_500)])
    query = LocateQuery(wifis=tuple(signals([*away, *here])), cells=(CellSignal((cell,), -80),))
    estimate = search(query, stations, {})
    assert estimate is not None and estimate.source is Source.WIFI
    assert set(estimate.used) == {s.key for s in here}
    without_cell = search(LocateQuery(wifis=query.wifis), stations, {})
    assert without_cell is not None and set(without_cell.used) == {s.key for s in away}


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
