"""The fitted radius models: pieces that add up, monotone where the fit promised, bounded."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from openloc.locate.query import Source
from openloc.locate.radius import (
    BOUNDS_M,
    AreaFeatures,
    CellFeatures,
    MacFeatures,
    area_radius,
    cell_radius,
    mac_radius,
)
from openloc.locate.radius_fit import MODELS
from openloc.locate.radius_model import segments

knots = st.lists(st.floats(-50, 50), min_size=0, max_size=5, unique=True).map(lambda k: tuple(sorted(k)))


@given(st.floats(-100, 100), knots)
def test_the_pieces_of_a_value_add_up_to_it(value: float, cuts: tuple[float, ...]) -> None:
    pieces = segments(value, cuts)
    assert len(pieces) == len(cuts) + 1
    assert abs(sum(pieces) + (cuts[0] if cuts else 0.0) - value) < 1e-9


mac = st.builds(
    MacFeatures,
    networks=st.integers(2, 20),
    spread_m=st.floats(0, 400),
    reach_m=st.floats(10, 400),
    strongest_dbm=st.floats(-100, -20),
    samples=st.integers(1, 500),
    log_samples=st.floats(0, 7),
    unused=st.integers(0, 30),
    log_breadth=st.floats(math.log(5), math.log(300)),
    log_offset=st.floats(math.log(5), math.log(200)),
    misfit_db=st.floats(0, 20),
)


@given(mac, st.floats(0, 400), st.integers(1, 10))
def test_wifi_radius_grows_with_spread_and_reach(features: MacFeatures, more: float, extra: int) -> None:
    """Stations that disagree more, or are heard from farther, never give a smaller circle. More
    networks always give a smaller typical error; the 95 % circle may still widen with them (the
    fitted width: the tail of the errors shrinks less than its middle)."""
    base = mac_radius(Source.WIFI, features)
    wider = mac_radius(Source.WIFI, replace(features, spread_m=features.spread_m + more))
    farther = mac_radius(Source.WIFI, replace(features, reach_m=features.reach_m + more))
    assert wider >= base * (1 - 1e-9) and farther >= base * (1 - 1e-9)
    assert BOUNDS_M[Source.WIFI][0] <= base <= BOUNDS_M[Source.WIFI][1]
    fuller = replace(features, networks=features.networks + extra)
    model = MODELS["wifi"]
    assert (
        model.typical(model.clamped(fuller.vector(Source.WIFI)))
        <= model.typical(model.clamped(features.vector(Source.WIFI))) + 1e-9
    )


@given(mac, st.integers(1, 20), st.floats(0, 40))
def test_wifi_radius_grows_when_the_client_may_be_outside_the_answer(
    features: MacFeatures, extra: int, weaker: float
) -> None:
    """More networks heard but not used (a less mapped place) never give a smaller circle; a weaker
    strongest signal (the nearest used network farther than the cluster's spread suggests) never a
    smaller typical error (the width, like with more networks, may narrow)."""
    base = mac_radius(Source.WIFI, features)
    assert mac_radius(Source.WIFI, replace(features, unused=features.unused + extra)) >= base * (1 - 1e-9)
    farther = replace(features, strongest_dbm=features.strongest_dbm - weaker)
    model = MODELS["wifi"]
    assert (
        model.typical(model.clamped(farther.vector(Source.WIFI)))
        >= model.typical(model.clamped(features.vector(Source.WIFI))) - 1e-9
    )


@given(mac, st.floats(0, 2), st.floats(0, 10), st.sampled_from([Source.WIFI, Source.BLUE]))
def test_radius_follows_how_surely_the_networks_are_placed(
    features: MacFeatures, more: float, worse: float, source: Source
) -> None:
    """Networks placed from footprints that surround them never give a larger typical error than
    ones heard from a single street (the width may still widen, as with more networks). For Wi-Fi,
    networks placed farther from where they were heard, or whose levels fit the path-loss model
    worse, never give a smaller circle."""
    model = MODELS[source.value]
    broader = replace(features, log_breadth=features.log_breadth + more)
    assert (
        model.typical(model.clamped(broader.vector(source)))
        <= model.typical(model.clamped(features.vector(source))) + 1e-9
    )
    if source is Source.WIFI:
        base = mac_radius(source, features)
        assert mac_radius(source, replace(features, log_offset=features.log_offset + more)) >= base * (
            1 - 1e-9
        )
        assert mac_radius(source, replace(features, misfit_db=features.misfit_db + worse)) >= base * (
            1 - 1e-9
        )


@given(mac, st.integers(1, 20), st.floats(0.1, 2), st.floats(0.1, 10))
def test_bluetooth_radius_ignores_the_wifi_only_features(
    features: MacFeatures, extra: int, farther: float, worse: float
) -> None:
    assert len(features.vector(Source.BLUE)) == len(MODELS["blue"].low)
    more = replace(
        features,
        unused=features.unused + extra,
        log_offset=features.log_offset + farther,
        misfit_db=features.misfit_db + worse,
    )
    assert mac_radius(Source.BLUE, more) == mac_radius(Source.BLUE, features)


@given(mac, st.integers(1, 5))
def test_bluetooth_radius_shrinks_with_more_beacons(features: MacFeatures, extra: int) -> None:
    fuller = replace(features, networks=features.networks + extra)
    assert mac_radius(Source.BLUE, fuller) <= mac_radius(Source.BLUE, features) * (1 + 1e-9)


@given(st.integers(1, 8), st.floats(0, 20_000), st.floats(50, 30_000), st.floats(0, 20_000))
def test_cell_radius_grows_with_spread_and_reach(
    cells: int, spread: float, reach: float, more: float
) -> None:
    base = cell_radius(CellFeatures(cells, spread, reach))
    assert cell_radius(CellFeatures(cells, spread + more, reach)) >= base * (1 - 1e-9)
    assert cell_radius(CellFeatures(cells, spread, reach + more)) >= base * (1 - 1e-9)
    assert BOUNDS_M[Source.CELL][0] <= base <= BOUNDS_M[Source.CELL][1]


@given(
    st.floats(0, 100_000), st.floats(0, 20_000), st.integers(1, 500), st.floats(0, 10_000), st.integers(1, 50)
)
def test_area_radius_grows_with_the_area_and_shrinks_with_its_known_cells(
    extent: float, cell_radius_m: float, cells: int, more: float, extra: int
) -> None:
    """A larger area, or cells heard farther, never give a smaller circle; more positioned cells of
    the same extent never a larger one (less of the area is unknown)."""
    base = area_radius(AreaFeatures(extent, cell_radius_m, cells))
    assert BOUNDS_M[Source.CELL_AREA][0] <= base <= BOUNDS_M[Source.CELL_AREA][1]
    assert area_radius(AreaFeatures(extent + more, cell_radius_m, cells)) >= base
    assert area_radius(AreaFeatures(extent, cell_radius_m + more, cells)) >= base
    assert area_radius(AreaFeatures(extent, cell_radius_m, cells + extra)) <= base
