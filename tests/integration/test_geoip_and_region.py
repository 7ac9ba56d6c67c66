"""The IP fallback and the region API on the local stack, with a small real mmdb built here
(IPv4 and IPv6 networks), the client IP arriving as API Gateway's sourceIp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from openloc.geo.distance import haversine_m
from openloc.local.stack import LocalStack

pytestmark = pytest.mark.integration


def _record(lat: float, lon: float, country: str, city: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "country": {"iso_code": country, "names": {"en": country}},
        "location": {"latitude": lat, "longitude": lon},
    }
    if city:
        record["city"] = {"names": {"en": city}}
    return record


@pytest.fixture(scope="module")
def geoip_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", languages=["en"], ipv4_compatible=True)
    writer.insert_network(IPSet(["81.2.69.0/24"]), _record(51.5142, -0.0931, "GB", "London"))
    writer.insert_network(IPSet(["2a02:c7f::/32"]), _record(53.4794, -2.2453, "GB", "Manchester"))
    writer.insert_network(IPSet(["89.160.20.0/24"]), _record(62.0, 15.0, "SE", None))
    path: Path = tmp_path_factory.mktemp("geoip") / "test-city.mmdb"
    writer.to_db_file(str(path))
    with LocalStack(
        data_dir=None, port=0, run_poller=False, run_scheduler=False, env={"GEOIP_PATH": str(path)}
    ) as local:
        yield local


@pytest.fixture
def api(geoip_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=geoip_stack.url, timeout=20) as client:
        yield client


@pytest.mark.parametrize(
    ("ip", "where", "accuracy"),
    [("81.2.69.142", (51.5142, -0.0931), 25_000), ("2a02:c7f:10::1", (53.4794, -2.2453), 25_000)],
)
def test_empty_body_locates_by_ip(
    api: httpx.Client, ip: str, where: tuple[float, float], accuracy: float
) -> None:
    response = api.post("/v1/geolocate?key=test", content=b"", headers={"X-Forwarded-For": ip})
    assert response.status_code == 200
    body = response.json()
    assert body["fallback"] == "ipf"
    assert haversine_m(body["location"]["lat"], body["location"]["lng"], *where) < 1
    assert body["accuracy"] == accuracy


def test_country_level_ip_gets_the_country_radius(api: httpx.Client) -> None:
    body = api.post("/v1/geolocate?key=test", json={}, headers={"X-Forwarded-For": "89.160.20.5"}).json()
    assert body["fallback"] == "ipf"
    assert body["accuracy"] > 500_000  # Sweden is ~1 500 km long


def test_ip_fallback_can_be_refused(api: httpx.Client) -> None:
    headers = {"X-Forwarded-For": "81.2.69.142"}
    assert api.post("/v1/geolocate?key=test", json={"considerIp": False}, headers=headers).status_code == 404
    assert (
        api.post("/v1/geolocate?key=test", json={"fallbacks": {"ipf": False}}, headers=headers).status_code
        == 404
    )
    # fallbacks wins over considerIp
    answer = api.post(
        "/v1/geolocate?key=test", json={"considerIp": False, "fallbacks": {"ipf": True}}, headers=headers
    )
    assert answer.status_code == 200


def test_stations_beat_the_ip(api: httpx.Client) -> None:
    wifi = [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]
    body = api.post(
        "/v1/geolocate?key=test", json={"wifiAccessPoints": wifi}, headers={"X-Forwarded-For": "81.2.69.142"}
    ).json()
    assert "fallback" not in body
    assert body["accuracy"] <= 500


def test_region_by_ip_v4_and_v6(api: httpx.Client) -> None:
    for ip in ["81.2.69.142", "2a02:c7f:10::1"]:
        response = api.post("/v1/region?key=test", json={}, headers={"X-Forwarded-For": ip})
        assert response.json() == {"country_code": "GB", "country_name": "United Kingdom", "fallback": "ipf"}


def test_region_prefers_stations_over_ip(api: httpx.Client) -> None:
    wifi = [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]
    response = api.post(
        "/v1/country?key=test", json={"wifiAccessPoints": wifi}, headers={"X-Forwarded-For": "81.2.69.142"}
    )
    assert response.json() == {"country_code": "DE", "country_name": "Germany"}


def test_unknown_ip_region_not_found(api: httpx.Client) -> None:
    response = api.post("/v1/region?key=test", json={}, headers={"X-Forwarded-For": "198.51.100.7"})
    assert response.status_code == 404
