"""`GET /v1/offline/{region}`: the newest offline pack of a country or MCC, from downloads.json."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from openloc.api.services import Services
from openloc.publish.manifest import DownloadFile, Manifest
from starlette.testclient import TestClient


def pack_entry(region: str, day: int) -> DownloadFile:
    return DownloadFile(
        kind="offline-pack", path=f"exports/offline/2026-11-{day:02d}/openloc-pack-{region}.sqlite.gz",
        region=region, format="sqlite.gz", size=123, rows=45, sha256="a" * 64,
        created=datetime(2026, 11, day, 2, 7, tzinfo=UTC),
    )  # fmt: skip


def test_offline_pack_lookup(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient]
) -> None:
    manifest = Manifest(
        updated=datetime(2026, 11, 23, tzinfo=UTC),
        files=[pack_entry("DE", 22), pack_entry("DE", 23), pack_entry("mcc-262", 23)],
    )
    client = make_client(make_services(manifest=lambda: manifest))
    found = client.get("/v1/offline/de")
    assert found.status_code == 200
    assert found.json() == {
        "region": "DE", "path": "exports/offline/2026-11-23/openloc-pack-DE.sqlite.gz", "format": "sqlite.gz",
        "size": 123, "rows": 45, "sha256": "a" * 64, "created": "2026-11-23T02:07:00Z",
    }  # fmt: skip
    assert client.get("/v1/offline/mcc-262").json()["region"] == "mcc-262"
    for region, message in (
        ("ZZ", "unknown region"),
        ("mcc-999", "unknown mobile country code"),
        ("FR", "no offline pack for FR"),
    ):
        response = client.get(f"/v1/offline/{region}")
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["errors"][0]["reason"] == "notFound" and message in error["message"]
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/offline/{region}" in paths


def test_offline_pack_lookup_without_manifest_or_with_a_broken_store(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient]
) -> None:
    assert make_client(make_services()).get("/v1/offline/DE").status_code == 404

    def broken() -> Manifest | None:
        raise ConnectionError("s3 down")

    response = make_client(make_services(manifest=broken)).get("/v1/offline/DE")
    assert (
        response.status_code == 503
        and response.json()["error"]["errors"][0]["reason"] == "serviceUnavailable"
    )
