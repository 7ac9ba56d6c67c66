"""The cell source: weighted cells, the area with most known cells, MNC spellings, cell areas
(lacf) and the accuracy radius (the tightest bound of the heard cells)."""

from __future__ import annotations

import pytest
from openloc.geo.distance import haversine_m
from openloc.locate.cell_source import locate_cell_areas, locate_cells
from openloc.locate.query import AreaSignal, CellSignal, KnownStation, Source
from openloc.model.keys import CellId
from openloc.model.kinds import Radio

from tests.unit.locate.support import by_key, known_cell, lte, offset


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


def test_locate_cell_areas_from_cells_sent_without_a_cell_id() -> None:
    c1, c2 = lte(1, lac=1), lte(2, lac=2)
    areas = {
        c1.area_key: KnownStation(c1.area_key, *offset(0, 0), 120_000),
        c2.area_key: KnownStation(c2.area_key, *offset(10_000, 0), 3_000),
    }
    only_area = [AreaSignal((c1.area,), -80)]
    estimate = locate_cell_areas([], areas, only_area)
    assert estimate is not None and estimate.fallback == "lacf"
    assert (estimate.lat, estimate.lon, estimate.accuracy) == pytest.approx((*offset(0, 0), 120_000))
    # With a full cell of a smaller area too, the smallest area answers whichever way it was named.
    both = locate_cell_areas([CellSignal((c2,), -80)], areas, only_area)
    assert both is not None and both.used == (c2.area_key,)
    assert locate_cell_areas([], areas, [AreaSignal((lte(9, lac=9).area,), -80)]) is None


LAT, LON = 52.52, 13.405


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
