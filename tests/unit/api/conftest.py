"""Fixtures of the api tests: a small real GeoIP file (tests/geoip_files.py)."""

from __future__ import annotations

import pytest

from tests.geoip_files import write_city_mmdb


@pytest.fixture(scope="module")
def geoip_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """81.2.69.0/24 is London, 2a02:c7f::/32 Manchester."""
    return write_city_mmdb(tmp_path_factory.mktemp("geoip") / "test-city.mmdb")
