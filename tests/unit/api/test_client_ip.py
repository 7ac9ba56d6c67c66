"""Client addresses: normalisation, the /64 of IPv6, X-Forwarded-For behind trusted proxies, and
API Gateway's sourceIp through Mangum (located with a small GeoIP file)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from mangum import Mangum
from openloc.api.app import build_app
from openloc.api.client_ip import address_group, normalize_ip
from openloc.api.services import Services
from openloc.geo.distance import haversine_m
from openloc.local.lambda_proxy import api_gateway_event

from tests.geoip_files import LONDON, MANCHESTER
from tests.unit.api.support import Client, _services, assert_envelope


@pytest.mark.parametrize(
    ("raw", "ip"),
    [
        ("2001:DB8::1", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("192.0.2.1:8080", "192.0.2.1"),
        (" 192.0.2.1 ", "192.0.2.1"),
        ("::ffff:81.2.69.142", "81.2.69.142"),
        ("fe80::1%eth0", "fe80::1"),
        ("not-an-ip", None),
        ("", None),
    ],
)
def test_normalize_ip(raw: str, ip: str | None) -> None:
    assert normalize_ip(raw) == ip


def test_address_group() -> None:
    assert address_group("81.2.69.142") == "81.2.69.142"
    assert address_group("2a02:c7f:10:20:1:2:3:4") == "2a02:c7f:10:20::/64"


# --- IPv6 clients, forwarded and through API Gateway ----------------------------------------------


@pytest.mark.parametrize(
    ("forwarded", "where"),
    [
        ("2a02:c7f:10::1", MANCHESTER),
        ("[2a02:c7f:10::2]:443", MANCHESTER),
        ("10.0.0.1, 2a02:c7f:ffff::3", MANCHESTER),
        ("::ffff:81.2.69.142", LONDON),
    ],
)
def test_forwarded_ipv6_address_locates_by_ip(
    make_services: Callable[..., Services],
    make_client: Client,
    geoip_file: str,
    forwarded: str,
    where: tuple[float, float],
) -> None:
    client = make_client(_services(make_services, geoip_file, trusted_proxy_hops=1))
    response = client.post("/v1/geolocate?key=test", json={}, headers={"X-Forwarded-For": forwarded})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fallback"] == "ipf"
    assert haversine_m(body["location"]["lat"], body["location"]["lng"], *where) < 1
    region = client.post("/v1/region?key=test", json={}, headers={"X-Forwarded-For": forwarded})
    assert region.json() == {"country_code": "GB", "country_name": "United Kingdom", "fallback": "ipf"}


def test_forwarded_header_is_ignored_without_trusted_proxies(
    make_services: Callable[..., Services], make_client: Client, geoip_file: str
) -> None:
    client = make_client(_services(make_services, geoip_file))
    response = client.post("/v1/geolocate?key=test", json={}, headers={"X-Forwarded-For": "2a02:c7f:10::1"})
    assert_envelope(response, 404, "geolocation", "notFound")


def test_api_gateway_ipv6_source_ip_through_mangum(
    make_services: Callable[..., Services], geoip_file: str
) -> None:
    """The Lambda path: an HTTP API (payload v2) event whose requestContext.http.sourceIp is IPv6."""
    handler = Mangum(build_app(_services(make_services, geoip_file), submit=False), lifespan="off")
    event = api_gateway_event(
        "POST",
        "/v1/region",
        "key=test",
        {"host": "api.example.org", "user-agent": "GeoClue/2.7.0", "content-type": "application/json"},
        b"{}",
        "2a02:c7f:1234:5678::9",
    )
    result = handler(event, object())  # type: ignore[arg-type]
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {
        "country_code": "GB",
        "country_name": "United Kingdom",
        "fallback": "ipf",
    }
    headers = {k.lower(): v for k, v in result["headers"].items()}
    assert headers["cache-control"] == "private, max-age=86400"


def test_behind_a_trusted_proxy_the_forwarded_address_wins_over_source_ip(
    make_services: Callable[..., Services], geoip_file: str
) -> None:
    """An operator's own proxy in front (TRUSTED_PROXY_HOPS=1): sourceIp is the proxy, the client
    is the last X-Forwarded-For entry; anything left of it is client-controlled."""
    services = _services(make_services, geoip_file, trusted_proxy_hops=1)
    handler = Mangum(build_app(services, submit=False), lifespan="off")
    headers = {"host": "api.example.org", "x-forwarded-for": "81.2.69.142, 2a02:c7f:42::1"}
    event = api_gateway_event("POST", "/v1/geolocate", "key=test", headers, b"{}", "130.176.0.1")
    body = json.loads(handler(event, object())["body"])  # type: ignore[arg-type]
    assert haversine_m(body["location"]["lat"], body["location"]["lng"], *MANCHESTER) < 1
