"""A small GeoIP database of the world's IP plan (MaxMind City schema), via mmdb-writer.

mmdb-writer and netaddr come with the dev extra; they are imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.world.model import World


def _record(lat: float, lon: float, city: bool, accuracy_km: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "continent": {"code": "EU", "names": {"en": "Europe"}},
        "country": {"iso_code": "DE", "names": {"en": "Germany"}},
        "location": {"latitude": lat, "longitude": lon, "accuracy_radius": accuracy_km},
    }
    if city:
        record["city"] = {"geoname_id": 2950159, "names": {"en": "Simulated City"}}
    return record


def write_geoip_mmdb(world: World, path: str | Path) -> Path:
    """Write the world's IP plan as a GeoLite2-City style file; returns its path."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(
        ip_version=6, database_type="GeoLite2-City", languages=["en"],
        description="OpenLoc simulated world", ipv4_compatible=True,
    )  # fmt: skip
    for block in world.ip_blocks:
        writer.insert_network(
            IPSet([block.network]), _record(block.lat, block.lon, block.city, block.accuracy_radius_km)
        )
    target = Path(path)
    writer.to_db_file(str(target))
    return target
