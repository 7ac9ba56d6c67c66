"""Behind CloudFront, only CloudFront reaches the app: the origin secret, and the client address
CloudFront vouches for (`CloudFront-Viewer-Address`) instead of anything the client wrote."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from mangum import Mangum
from openloc.api.app import build_app
from openloc.api.client_ip import viewer_address
from openloc.api.origin import REFRESH_SECONDS, OriginGuard, carries_secret
from openloc.api.services import Services, country_radius_m
from openloc.geo.distance import haversine_m
from openloc.local.lambda_proxy import api_gateway_event
from openloc.locate.geoip import from_path
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.secrets import SecretUnavailable
from starlette.types import Message, Receive, Scope, Send

from tests.geoip_files import LONDON, MANCHESTER
from tests.unit.api.support import CountingKeys, assert_envelope

SECRET = "origin-secret-0123456789abcdef"


class Secret:
    """The origin secret's stages as the store answers them, counting fresh (uncached) reads."""

    def __init__(self, *values: str) -> None:
        self.values = frozenset(values)
        self.cached = frozenset(values)
        self.fresh_reads = 0
        self.down = False

    def __call__(self, fresh: bool) -> frozenset[str]:
        if self.down:
            raise SecretUnavailable("secrets manager down")
        if fresh:
            self.fresh_reads += 1
            self.cached = self.values
        return self.cached


def _handler(make_services: Callable[..., Services], geoip_file: str, secret: Secret, keys: Any) -> Mangum:
    services = make_services(
        settings=Settings(trusted_proxy_hops=1),  # even a configured hop count gives the client no say
        geoip=from_path(geoip_file, country_radius=country_radius_m),
        origin_secret=secret,
        api_keys=keys,
    )
    return Mangum(build_app(services, submit=False), lifespan="off")


def _call(
    handler: Mangum, headers: dict[str, str], path: str = "/v1/geolocate", source: str = "130.176.0.1"
) -> Any:
    event = api_gateway_event(
        "POST", path, "key=test", {"host": "origin.example.org", **headers}, b"{}", source
    )
    result = handler(event, object())  # type: ignore[arg-type]
    return result["statusCode"], json.loads(result["body"])


def test_a_request_straight_to_the_origin_is_refused_whatever_it_forwards(
    make_services: Callable[..., Services], geoip_file: str
) -> None:
    """The attack: sent straight to API Gateway with `X-Forwarded-For: 9.9.9.9`, the request was
    taken as 9.9.9.9 for limits and GeoIP. Without the origin secret nothing is served now, before
    any key lookup."""
    keys = CountingKeys(ApiKeyRecord(key="test"))
    handler = _handler(make_services, geoip_file, Secret(SECRET), keys)
    for headers in (
        {"x-forwarded-for": "9.9.9.9"},
        {"x-forwarded-for": "81.2.69.142", "cloudfront-viewer-address": "81.2.69.142:443"},
        {"x-origin-verify": "guess", "x-forwarded-for": "9.9.9.9"},
        {"x-origin-verify": SECRET[:-1]},
        {"x-origin-verify": ""},
    ):
        status, body = _call(handler, headers)
        assert status == 403
        assert body["error"]["errors"][0] == {
            "domain": "global",
            "reason": "forbidden",
            "message": "Forbidden: use the service's public address",
        }
    assert keys.gets == 0


@pytest.mark.parametrize(
    ("viewer", "where"), [("2a02:c7f:10::1:46532", MANCHESTER), ("81.2.69.142:443", LONDON)]
)
def test_through_cloudfront_the_client_is_the_viewer_address_not_x_forwarded_for(
    make_services: Callable[..., Services], geoip_file: str, viewer: str, where: tuple[float, float]
) -> None:
    handler = _handler(make_services, geoip_file, Secret(SECRET), MemoryApiKeyStore(ApiKeyRecord(key="test")))
    headers = {
        "x-origin-verify": SECRET,
        "cloudfront-viewer-address": viewer,
        # what a client wrote, plus what CloudFront and API Gateway appended: never used
        "x-forwarded-for": "9.9.9.9, 81.2.69.1, 130.176.0.1",
    }
    status, body = _call(handler, headers)
    assert status == 200 and body["fallback"] == "ipf"
    assert haversine_m(body["location"]["lat"], body["location"]["lng"], *where) < 1


def test_a_rotated_secret_is_accepted_at_once_and_wrong_values_cost_one_read_per_period() -> None:
    secret = Secret("old")
    seen: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(dict(scope))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    clock = [1000.0]
    guard = OriginGuard(app, secret, clock=lambda: clock[0])

    def status(value: str) -> int:
        sent: list[dict[str, Any]] = []

        async def send(message: Message) -> None:
            sent.append(dict(message))

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        scope: Scope = {"type": "http", "path": "/", "headers": [(b"x-origin-verify", value.encode())]}
        asyncio.run(guard(scope, receive, send))
        return int(sent[0]["status"])

    assert status("old") == 200
    secret.values = frozenset({"old", "new"})  # the rotation created AWSPENDING; the cache lags
    assert status("new") == 200 and secret.fresh_reads == 1  # one fresh read picked it up
    for _ in range(1000):  # a flood of wrong values in the same period: no read at all
        assert status("wrong") == 403
    assert secret.fresh_reads == 1
    clock[0] += REFRESH_SECONDS
    for _ in range(1000):  # in the next period: one read, not 1000
        assert status("wrong") == 403
    assert secret.fresh_reads == 2
    # the app never sees the secret, and knows the request came through CloudFront
    assert all(b"x-origin-verify" not in dict(scope["headers"]) for scope in seen)
    assert all(scope["openloc.via_cdn"] for scope in seen)


def test_secrets_manager_down_is_a_503_envelope(
    make_services: Callable[..., Services], geoip_file: str
) -> None:
    secret = Secret(SECRET)
    secret.down = True
    handler = _handler(make_services, geoip_file, secret, MemoryApiKeyStore(ApiKeyRecord(key="test")))
    status, body = _call(handler, {"x-origin-verify": SECRET})
    assert status == 503 and body["error"]["errors"][0]["reason"] == "serviceUnavailable"


def test_without_an_origin_secret_there_is_no_guard(client: Any) -> None:
    assert_envelope(
        client.post("/v1/geolocate?key=test", json={"considerIp": False}), 404, "geolocation", "notFound"
    )


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("198.51.100.7:46532", "198.51.100.7"),
        ("2001:db8::1:443", "2001:db8::1"),
        ("2001:db8:0:0:0:0:0:1:8080", "2001:db8::1"),
        ("::ffff:81.2.69.142:443", "81.2.69.142"),
        ("198.51.100.7", None),  # no port: not what CloudFront sends
        ("198.51.100.7:x", None),
        ("", None),
        (None, None),
    ],
)
def test_viewer_address(value: str | None, address: str | None) -> None:
    assert viewer_address(value) == address


def test_secret_comparison() -> None:
    assert carries_secret("a", {"a", "b"}) and carries_secret("b", {"a", "b"})
    assert (
        not carries_secret("", {""}) and not carries_secret(None, {"a"}) and not carries_secret("ab", {"a"})
    )
