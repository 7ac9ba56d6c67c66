"""The cell source: weighted cells, clustered across areas, MNC spellings, cell areas
(lacf) and the accuracy radius (predicted from the cells' spread and radii, and from the area's
real extent: `locate.radius`)."""

from __future__ import annotations

import pytest
from openloc.locate.cell_source import CLUSTER_M, locate_cell_areas, locate_cells
from openloc.locate.query import AreaSignal, CellSignal, KnownStation, Source
from openloc.locate.radius import BOUNDS_M

from tests.unit.locate.support import by_key, known_cell, lte, offset


def test_locate_cells_weighted_towards_the_stronger_cell() -> None:
    c1, c2 = lte(1), lte(2)
    known = by_key([known_cell(c1, 0, 0), known_cell(c2, 0, 1_000)])
    estimate = locate_cells([CellSignal((c1,), -60), CellSignal((c2,), -110)], known)
    assert estimate is not None and estimate.source is Source.CELL and estimate.fallback is None
    # 50 dB stronger: within a tenth of the way to the weak cell
    assert estimate.lon < offset(0, 100)[1]
    assert BOUNDS_M[Source.CELL][0] <= estimate.accuracy <= BOUNDS_M[Source.CELL][1]


def test_cell_radius_follows_the_cells_size_within_bounds() -> None:
    """A small cell gives a small circle, a large one a large circle; both inside the bounds."""
    radii = []
    for cid, radius in ((1, 10.0), (2, 300.0), (3, 3_000.0), (4, 90_000.0)):
        cell = lte(cid)
        est = locate_cells([CellSignal((cell,), None)], by_key([known_cell(cell, 0, 0, radius=radius)]))
        assert est is not None
        radii.append(est.accuracy)
    assert radii == sorted(radii) and radii[0] < radii[-1]
    assert all(BOUNDS_M[Source.CELL][0] <= r <= BOUNDS_M[Source.CELL][1] for r in radii)


def test_cells_of_two_areas_answer_together() -> None:
    """Near an area's border a phone hears cells of both areas: all of them place it."""
    a1, a2, b1 = lte(1, lac=1), lte(2, lac=1), lte(3, lac=2)
    known = by_key([known_cell(a1, 0, 0), known_cell(a2, 0, 2_000), known_cell(b1, 2_000, 1_000)])
    estimate = locate_cells([CellSignal((b1,), -90), CellSignal((a1,), -90), CellSignal((a2,), -90)], known)
    assert estimate is not None and set(estimate.used) == {a1.key, a2.key, b1.key}
    assert offset(0, 0)[0] < estimate.lat < offset(2_000, 0)[0]


def test_a_cell_far_from_the_others_is_left_out() -> None:
    """A misplaced cell (farther from the others than any two cells one phone hears) cannot drag
    the answer, however strongly it is heard: the cluster with most cells answers."""
    a1, a2, far = lte(1, lac=1), lte(2, lac=2), lte(3, lac=1)
    known = by_key([known_cell(a1, 0, 0), known_cell(a2, 0, 3_000), known_cell(far, CLUSTER_M * 2, 0)])
    estimate = locate_cells(
        [CellSignal((far,), -50), CellSignal((a1,), -100), CellSignal((a2,), -100)], known
    )
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
    assert 1_000 < estimate.accuracy < 10_000  # from the area's extent (3 km), not a fixed 50 km
    assert locate_cell_areas([CellSignal((lte(9, lac=9),), -80)], areas) is None


def test_area_radius_comes_from_the_areas_extent() -> None:
    """The cell-area radius grows nearly in proportion to the area (the farthest corner of its
    cells' box), inside the documented bounds, from a town-sized area to a region-sized one."""
    answers = []
    for lac, extent in enumerate((800.0, 3_000.0, 12_000.0, 60_000.0)):
        cell = lte(1, lac=lac)
        area = {cell.area_key: KnownStation(cell.area_key, *offset(0, 0), extent, 8, 1_500.0)}
        estimate = locate_cell_areas([CellSignal((cell,), -80)], area)
        assert estimate is not None
        answers.append(estimate.accuracy)
    assert answers == sorted(answers)
    assert (60_100 / 3_100) ** 0.75 < answers[-1] / answers[1] <= 60_100 / 3_100
    assert all(BOUNDS_M[Source.CELL_AREA][0] <= a <= BOUNDS_M[Source.CELL_AREA][1] for a in answers)


def test_an_area_known_from_one_cell_is_wider_than_that_cell() -> None:
    """An area whose only positioned cell was heard within 60 m: the client hears some other cell
    of the area, which may be anywhere in it, so the circle is not that cell's 60 m (nor the
    bare 500 m floor), and it narrows as more of the area's cells are positioned."""
    cell = lte(1, lac=1)
    radii = []
    for cells in (1, 4, 16):
        area = {cell.area_key: KnownStation(cell.area_key, *offset(0, 0), 60.0, cells, 60.0)}
        estimate = locate_cell_areas([CellSignal((cell,), -80)], area)
        assert estimate is not None
        radii.append(estimate.accuracy)
    assert radii[0] > 600.0
    assert radii[0] > radii[1] > radii[2]


def test_locate_cell_areas_from_cells_sent_without_a_cell_id() -> None:
    c1, c2 = lte(1, lac=1), lte(2, lac=2)
    areas = {
        c1.area_key: KnownStation(c1.area_key, *offset(0, 0), 120_000),
        c2.area_key: KnownStation(c2.area_key, *offset(10_000, 0), 3_000),
    }
    only_area = [AreaSignal((c1.area,), -80)]
    estimate = locate_cell_areas([], areas, only_area)
    assert estimate is not None and estimate.fallback == "lacf"
    assert (estimate.lat, estimate.lon) == pytest.approx(offset(0, 0))
    # With a full cell of a smaller area too, the smallest area answers whichever way it was named.
    both = locate_cell_areas([CellSignal((c2,), -80)], areas, only_area)
    assert both is not None and both.used == (c2.area_key,)
    assert locate_cell_areas([], areas, [AreaSignal((lte(9, lac=9).area,), -80)]) is None


def test_cell_radius_grows_when_the_heard_cells_disagree() -> None:
    a, b = lte(1), lte(2)
    close = by_key([known_cell(a, 0, 0, radius=1_500), known_cell(b, 0, 200, radius=1_500)])
    apart = by_key([known_cell(a, 0, 0, radius=1_500), known_cell(b, 0, 6_000, radius=1_500)])
    seen = [CellSignal((a,), -80), CellSignal((b,), -80)]
    near, far = locate_cells(seen, close), locate_cells(seen, apart)
    assert near is not None and far is not None and near.accuracy < far.accuracy
