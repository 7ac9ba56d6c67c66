"""Heartbeats and version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openloc.api.services import Services, country_radius_m
from openloc.locate.geoip import from_path
from openloc.settings import Settings

from tests.geoip_files import write_city_mmdb
from tests.unit.api.support import Client


def test_monitoring_endpoints(make_services: Callable[..., Services], make_client: Client) -> None:
    client = make_client(make_services())
    assert client.get("/__lbheartbeat__").json() == {"status": "OK"}
    heartbeat = client.get("/__heartbeat__")
    assert heartbeat.status_code == 200
    assert heartbeat.json()["database"]["up"] is True and heartbeat.json()["redis"]["up"] is None
    assert set(client.get("/__version__").json()) == {"source", "version", "commit", "build"}

    def down() -> None:
        raise ConnectionError("db down")

    broken = make_client(make_services(database_ping=down)).get("/__heartbeat__")
    assert broken.status_code == 503
    assert broken.json()["database"] == {"up": False, "time": -1}
    assert broken.json()["geoip"]["up"] is None  # no GeoIP configured: not a failure


# --- GeoIP (Ichnaea's heartbeat lists database, geoip and redis) ----------------------------------


def _heartbeat(make_services: Callable[..., Services], make_client: Client, geoip_path: str) -> Any:
    services = make_services(
        settings=Settings(geoip_path=geoip_path), geoip=from_path(geoip_path, country_radius=country_radius_m)
    )
    return make_client(services).get("/__heartbeat__")


def test_heartbeat_without_a_geoip_database_configured(
    make_services: Callable[..., Services], make_client: Client
) -> None:
    response = _heartbeat(make_services, make_client, "")
    assert response.status_code == 200
    assert list(response.json()) == ["database", "geoip", "redis"]
    assert response.json()["geoip"] == {"up": None, "time": -1, "age_in_days": None}


def test_heartbeat_with_the_geoip_database_in_use(
    make_services: Callable[..., Services], make_client: Client, tmp_path: Path
) -> None:
    path = write_city_mmdb(tmp_path / "city.mmdb")
    response = _heartbeat(make_services, make_client, path)
    assert response.status_code == 200
    geoip = response.json()["geoip"]
    assert geoip["up"] is True and geoip["time"] >= 0
    assert geoip["age_in_days"] == 0  # built just now


@pytest.mark.parametrize("broken", ["missing", "unreadable", "one of two missing", "no mmdb in the folder"])
def test_heartbeat_is_503_when_a_configured_geoip_file_is_missing_or_unreadable(
    make_services: Callable[..., Services], make_client: Client, tmp_path: Path, broken: str
) -> None:
    good = write_city_mmdb(tmp_path / "city.mmdb")
    corrupt = tmp_path / "corrupt.mmdb"
    corrupt.write_bytes(b"not an mmdb file" * 100)
    (tmp_path / "empty").mkdir()
    path = {
        "missing": str(tmp_path / "nope.mmdb"),
        "unreadable": str(corrupt),
        "one of two missing": f"{good},{tmp_path / 'nope-v6.mmdb'}",
        "no mmdb in the folder": str(tmp_path / "empty"),
    }[broken]
    response = _heartbeat(make_services, make_client, path)
    assert response.status_code == 503
    body = response.json()
    assert body["geoip"]["up"] is False and body["geoip"]["time"] == -1
    assert body["database"]["up"] is True  # the others are still reported
    # The file that did open still says how old it is.
    assert body["geoip"]["age_in_days"] == (0 if broken == "one of two missing" else None)
