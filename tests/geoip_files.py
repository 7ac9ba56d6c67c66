"""Small real GeoIP files for the tests of every suite (written with mmdb-writer, read by the
service's own reader)."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

LONDON = (51.5142, -0.0931)
MANCHESTER = (53.4794, -2.2453)


def write_city_mmdb(path: Path) -> str:
    """A small real GeoLite2-City-style file: 81.2.69.0/24 is London, 2a02:c7f::/32 Manchester."""
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
    writer.to_db_file(str(path))
    return str(path)
