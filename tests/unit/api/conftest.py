"""Fixtures of the api tests: a small GeoIP file that places two networks."""

from __future__ import annotations

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

MANCHESTER = (53.4794, -2.2453)


LONDON = (51.5142, -0.0931)


@pytest.fixture(scope="module")
def geoip_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", languages=["en"], ipv4_compatible=True)
    for network, (lat, lon), city in [
        ("81.2.69.0/24", LONDON, "London"),
        ("2a02:c7f::/32", MANCHESTER, "Manchester"),
    ]:
        writer.insert_network(
            IPSet([network]),
            {
                "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
                "city": {"names": {"en": city}},
                "location": {"latitude": lat, "longitude": lon},
            },
        )
    path = tmp_path_factory.mktemp("geoip") / "test-city.mmdb"
    writer.to_db_file(str(path))
    return str(path)
