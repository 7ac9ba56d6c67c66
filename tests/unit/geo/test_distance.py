"""Great-circle distance and the bounding-box radius."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.geo.distance import EARTH_RADIUS_M, bbox_radius_m, haversine_m

lats = st.floats(min_value=-90, max_value=90, allow_nan=False)
lons = st.floats(min_value=-180, max_value=180, allow_nan=False)


def test_haversine_known_distances() -> None:
    assert haversine_m(0, 0, 0, 0) == 0
    # One degree of latitude on the mean sphere.
    assert haversine_m(0, 0, 1, 0) == pytest.approx(EARTH_RADIUS_M * 3.141592653589793 / 180, rel=1e-9)
    # Antipodes: half the circumference.
    assert haversine_m(0, 0, 0, 180) == pytest.approx(EARTH_RADIUS_M * 3.141592653589793, rel=1e-9)
    # Berlin → Paris is about 878 km.
    assert haversine_m(52.5200, 13.4050, 48.8566, 2.3522) == pytest.approx(878_000, rel=0.01)


@given(lats, lons, lats, lons)
def test_haversine_symmetric_and_bounded(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    d = haversine_m(lat1, lon1, lat2, lon2)
    assert d == pytest.approx(haversine_m(lat2, lon2, lat1, lon1), abs=1e-6)
    assert 0 <= d <= EARTH_RADIUS_M * 3.1416


@given(lats, lons, lats, lons, lats, lons)
def test_haversine_triangle_inequality(
    lat1: float, lon1: float, lat2: float, lon2: float, lat3: float, lon3: float
) -> None:
    direct = haversine_m(lat1, lon1, lat3, lon3)
    assert direct <= haversine_m(lat1, lon1, lat2, lon2) + haversine_m(lat2, lon2, lat3, lon3) + 1e-3


def test_bbox_radius_is_farthest_corner() -> None:
    radius = bbox_radius_m(52.0, 13.0, 51.99, 12.99, 52.02, 13.01)
    corners = [haversine_m(52.0, 13.0, a, b) for a in (51.99, 52.02) for b in (12.99, 13.01)]
    assert radius == max(corners)
    assert bbox_radius_m(52.0, 13.0, 52.0, 13.0, 52.0, 13.0) == 0
