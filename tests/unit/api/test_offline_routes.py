"""`GET /v1/offline/{region}`: the newest offline pack of a country or MCC, from downloads.json."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
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
        "parts": [{"part": 1, "path": "exports/offline/2026-11-23/openloc-pack-DE.sqlite.gz", "size": 123,
                   "rows": 45, "sha256": "a" * 64}],  # no bbox: the entry predates parts
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


def part_entry(region: str, day: int, part: int, parts: int, bbox: list[float]) -> DownloadFile:
    return DownloadFile(
        kind="offline-pack", path=f"exports/offline/2026-11-{day:02d}/openloc-pack-{region}-{part}of{parts}.sqlite.gz",
        region=region, format="sqlite.gz", size=1000 + part, rows=10 * part, sha256=f"{part:x}" * 64,
        created=datetime(2026, 11, day, 2, 7 + part, tzinfo=UTC), part=part, parts=parts, bbox=bbox,
    )  # fmt: skip


def test_offline_pack_in_parts(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient]
) -> None:
    """The newest complete generation's parts, by part number; the top-level fields are part 1's
    (what a client that predates parts downloads); an unfinished newer generation is passed over."""
    boxes = [[5.8, 47.2, 9.0, 55.1], [9.0, 47.2, 11.5, 55.1], [11.5, 47.2, 15.1, 55.1]]
    files = [pack_entry("DE", 21)]
    files += [part_entry("DE", 22, n, 3, boxes[n - 1]) for n in (2, 3, 1)]
    files += [part_entry("DE", 23, 1, 2, boxes[0])]  # its part 2 is not listed yet
    manifest = Manifest(updated=datetime(2026, 11, 23, tzinfo=UTC), files=files)
    client = make_client(make_services(manifest=lambda: manifest))
    answer = client.get("/v1/offline/DE").json()
    first = "exports/offline/2026-11-22/openloc-pack-DE-1of3.sqlite.gz"
    assert {k: answer[k] for k in ("path", "size", "rows", "created")} == {
        "path": first, "size": 1001, "rows": 10, "created": "2026-11-22T02:08:00Z",
    }  # fmt: skip
    assert answer["parts"] == [
        {"part": n, "path": f"exports/offline/2026-11-22/openloc-pack-DE-{n}of3.sqlite.gz", "size": 1000 + n,
         "rows": 10 * n, "sha256": f"{n:x}" * 64, "bbox": boxes[n - 1]}
        for n in (1, 2, 3)
    ]  # fmt: skip
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schema["OfflinePackResponse"]["required"]) >= {"parts", "path", "sha256"}
    assert set(schema["OfflinePackPart"]["properties"]) == {"part", "path", "size", "rows", "sha256", "bbox"}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the client keeps no state
@given(
    digits=st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=6),
    prefix=st.sampled_from(["", "mcc-", "MCC-", "mcc-0"]),
)
@example(digits="00", prefix="mcc-0")  # mcc-000: well formed, an unknown country code
def test_region_with_unicode_digits_is_not_found_never_a_5xx(
    make_services: Callable[..., Services],
    make_client: Callable[[Services], TestClient],
    digits: str,
    prefix: str,
) -> None:
    """The attack: `GET /v1/offline/mcc-%C2%B2` answered 503 ('²'.isdigit() is true, int('²')
    raises); enough of them trip the 5xx alarm. Any digit of any script is checked, unconverted."""
    region = prefix + digits
    response = make_client(make_services()).get("/v1/offline/" + quote(region, safe=""))
    assert response.status_code == 404
    # only `NNN` / `mcc-NNN` in ASCII digits is a mobile country code ("mcc-0" + "12" is one too)
    if re.fullmatch(r"(?:mcc-)?[0-9]{3}", region, re.ASCII | re.IGNORECASE) is None:
        assert "unknown region" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "region",
    [
        "mcc-²",
        "mcc-٢٦٢",
        "²⁶²",
        "mcc-" + "2" * 4_400,
        "2" * 4_400,
        "mcc-+262",
        "mcc- 262",
        "262.0",
        "ＤＥ",
        "Ⅱ",
    ],
)
def test_malformed_regions_are_404_with_a_bounded_message(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient], region: str
) -> None:
    response = make_client(make_services()).get("/v1/offline/" + quote(region, safe=""))
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["errors"][0]["reason"] == "notFound" and len(error["message"]) < 120
