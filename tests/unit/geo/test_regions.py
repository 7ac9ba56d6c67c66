"""Offline region lookup (openloc.geo.regions) against known places and the MCC table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openloc.geo.regions import region_by_code, region_for_position, regions_for_mcc

KNOWN = [
    ("Berlin", 52.52, 13.405, "DE"),
    ("London", 51.507, -0.128, "GB"),
    ("Paris", 48.8566, 2.3522, "FR"),
    ("New York", 40.71, -74.0, "US"),
    ("Honolulu", 21.31, -157.86, "US"),
    ("Sydney", -33.8688, 151.2093, "AU"),
    ("Tokyo", 35.6762, 139.6503, "JP"),
    ("São Paulo", -23.5505, -46.6333, "BR"),
    ("Cape Town", -33.9249, 18.4241, "ZA"),
    ("Geneva", 46.2, 6.14, "CH"),
    ("Vatican", 41.9029, 12.4534, "VA"),
    ("Rome", 41.9028, 12.4964, "IT"),
    ("Singapore", 1.29, 103.85, "SG"),
    ("Monaco", 43.73, 7.42, "MC"),
    ("Luxembourg", 49.6116, 6.1319, "LU"),
    ("San Marino", 43.94, 12.45, "SM"),
    ("Maseru (enclave)", -29.31, 27.48, "LS"),
    ("Anadyr (antimeridian)", 64.73, 177.5, "RU"),
    ("Chukotka east of 180", 65.0, -175.0, "RU"),
    ("Suva", -18.14, 178.44, "FJ"),
    ("Fiji east of 180", -16.8, -179.9, "FJ"),
    ("Attu, Aleutians", 52.9, 173.2, "US"),
    ("Anchorage", 61.2, -149.9, "US"),
    ("Antarctica near the pole", -89.9, 0.0, "AQ"),
    ("Pristina", 42.66, 21.16, "XK"),
    ("Nicosia", 35.17, 33.36, "CY"),
    ("Cayenne", 4.93, -52.33, "GF"),
    ("Saint-Denis, Réunion", -20.88, 55.45, "RE"),
    ("Longyearbyen", 78.22, 15.65, "SJ"),
    ("Gibraltar", 36.14, -5.35, "GI"),
    # Border-near cities.
    ("Basel", 47.56, 7.59, "CH"),
    ("Strasbourg", 48.58, 7.75, "FR"),
    ("Detroit", 42.33, -83.05, "US"),
    ("Windsor ON", 42.30, -83.02, "CA"),
    # Coastal cities must not fall in the sea.
    ("Lisbon", 38.72, -9.14, "PT"),
    ("Helsinki", 60.17, 24.94, "FI"),
    ("Hong Kong", 22.28, 114.16, "HK"),
    ("Rio de Janeiro", -22.91, -43.17, "BR"),
    ("Wellington", -41.29, 174.78, "NZ"),
]


@pytest.mark.parametrize(("place", "lat", "lon", "code"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_points(place: str, lat: float, lon: float, code: str) -> None:
    region = region_for_position(lat, lon)
    assert region is not None, place
    assert region.code == code, place


@pytest.mark.parametrize(("lat", "lon"), [(30.0, -40.0), (0.0, -150.0), (-50.0, -120.0), (90.0, 0.0)])
def test_sea_is_none(lat: float, lon: float) -> None:
    assert region_for_position(lat, lon) is None


def test_out_of_range_is_none() -> None:
    assert region_for_position(91.0, 0.0) is None
    assert region_for_position(0.0, 181.0) is None
    assert region_for_position(float("nan"), 0.0) is None


def test_mcc_table() -> None:
    assert regions_for_mcc(262) == ("DE",)
    assert "GB" in regions_for_mcc(234)
    assert regions_for_mcc(234)[0] == "GB"
    assert "US" in regions_for_mcc(310)
    assert regions_for_mcc(310)[0] == "US"
    assert regions_for_mcc(208) == ("FR",)
    assert regions_for_mcc(212) == ("MC",)
    assert regions_for_mcc(460) == ("CN",)
    assert regions_for_mcc(999) == ()
    assert regions_for_mcc(270) == ("LU",)


def test_every_mcc_region_is_known() -> None:
    for mcc in range(1000):
        for code in regions_for_mcc(mcc):
            assert region_by_code(code) is not None, (mcc, code)


def test_names_and_radius() -> None:
    gb = region_by_code("GB")
    us = region_by_code("us")
    assert gb is not None
    assert us is not None
    assert gb.name == "United Kingdom"
    assert us.name == "United States"
    assert region_by_code("XK") is not None
    assert region_by_code("ZZ") is None
    mc = region_by_code("MC")
    assert mc is not None
    assert mc.radius_m < 10_000
    assert 300_000 < gb.radius_m < 1_000_000
    ru = region_by_code("RU")
    assert ru is not None
    assert 3_000_000 < ru.radius_m <= 5_000_000


@settings(max_examples=500, deadline=None)
@given(
    st.floats(min_value=-90, max_value=90, allow_nan=False),
    st.floats(min_value=-180, max_value=180, allow_nan=False),
)
def test_never_raises(lat: float, lon: float) -> None:
    region = region_for_position(lat, lon)
    assert region is None or len(region.code) == 2
