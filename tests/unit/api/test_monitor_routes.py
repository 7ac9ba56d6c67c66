"""Heartbeats and version."""

from __future__ import annotations

from collections.abc import Callable

from openloc.api.services import Services

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
