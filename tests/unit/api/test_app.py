"""The ASGI app as a whole: CORS, the 503 envelope instead of a bare 500, unknown paths and methods."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from openloc.api.app import CORS_MAX_AGE
from openloc.api.services import Services
from openloc.settings import Settings
from starlette.testclient import TestClient

from tests.unit.api.support import Client, assert_envelope, v2_item, wifi_body

# --- unknown paths and methods --------------------------------------------------------------------


def test_get_on_a_submission_path_is_405_naming_post(client: TestClient) -> None:
    """Kept on purpose (docs/api.md, "Differences from Ichnaea"): Ichnaea answered 400 parseError."""
    for path in ["/v2/geosubmit", "/v1/geosubmit", "/v1/submit"]:
        response = client.get(f"{path}?key=test")
        assert_envelope(response, 405, "global", "methodNotAllowed")
        assert response.headers["allow"] == "POST"
        assert "POST" in response.json()["error"]["message"]


def test_unknown_path_is_404_envelope(client: TestClient) -> None:
    assert_envelope(client.post("/v1/nope", json={}), 404, "global", "notFound")
    assert_envelope(client.get("/"), 404, "global", "notFound")
    assert_envelope(client.options("/v1/nope"), 404, "global", "notFound")


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "PUT"])
@pytest.mark.parametrize("path", ["/v1/geolocate", "/v1/region", "/v1/country", "/v1/search"])
def test_unsupported_methods_on_locate_paths_are_405(client: TestClient, path: str, method: str) -> None:
    """Ichnaea's `test_unsupported_methods`; the Allow header is the same on every call."""
    response = client.request(method, f"{path}?key=test")
    assert_envelope(response, 405, "global", "methodNotAllowed")
    assert response.headers["allow"] == "GET, HEAD, POST"


# --- unexpected errors ----------------------------------------------------------------------------


def test_unexpected_error_is_503_envelope_not_bare_500(
    make_services: Callable[..., Services], make_client: Client, now_ms: int
) -> None:
    class Exploding:
        def send(self, reports: Sequence[dict[str, Any]]) -> int:
            raise RuntimeError("unexpected")

    client = make_client(make_services(queue=Exploding()))
    response = client.post("/v2/geosubmit", json={"items": [v2_item(now_ms)]})
    assert_envelope(response, 503, "global", "serviceUnavailable")


# --- CORS -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/geolocate", "/v1/region", "/v2/geosubmit", "/v1/submit"])
def test_cors_preflight_is_answered_for_any_origin(client: TestClient, path: str) -> None:
    response = client.options(
        path,
        headers={
            "Origin": "https://maps.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, content-encoding",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "content-encoding" in allowed
    assert response.headers["access-control-max-age"] == str(CORS_MAX_AGE)
    assert "access-control-allow-credentials" not in response.headers


# Ichnaea's `test_options`, on every kind of path: `OPTIONS` without `Origin` (as API tools send it).
OPTIONS_PATHS = {
    "/v1/geolocate": "GET, HEAD, OPTIONS, POST",
    "/v1/region": "GET, HEAD, OPTIONS, POST",
    "/v1/country": "GET, HEAD, OPTIONS, POST",
    "/v1/search": "GET, HEAD, OPTIONS, POST",
    "/v2/geosubmit": "OPTIONS, POST",
    "/v1/geosubmit": "OPTIONS, POST",
    "/v1/submit": "OPTIONS, POST",
    "/v1/transfer": "OPTIONS, POST",
    "/__heartbeat__": "GET, HEAD, OPTIONS",
    "/__lbheartbeat__": "GET, HEAD, OPTIONS",
    "/__version__": "GET, HEAD, OPTIONS",
    "/v1/offline/DE": "GET, HEAD, OPTIONS",
}


@pytest.mark.parametrize(("path", "allow"), OPTIONS_PATHS.items())
def test_options_without_origin_is_200_with_the_allowed_methods(
    client: TestClient, path: str, allow: str
) -> None:
    response = client.options(path)
    assert response.status_code == 200
    assert response.headers["allow"] == allow
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "GET, HEAD, POST, OPTIONS"
    assert response.headers["access-control-max-age"] == str(CORS_MAX_AGE)
    assert response.content == b""
    assert "access-control-allow-credentials" not in response.headers


def test_options_with_origin_but_no_requested_method_is_200_too(client: TestClient) -> None:
    """Not a preflight (no Access-Control-Request-Method): answered like the above, with CORS."""
    response = client.options("/v1/geolocate", headers={"Origin": "https://maps.example.org"})
    assert response.status_code == 200
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert response.headers["access-control-allow-origin"] == "*"


def test_options_follows_the_configured_cors_policy(
    make_services: Callable[..., Services], make_client: Client
) -> None:
    restricted = make_client(make_services(settings=Settings(cors_allow_origins="https://a.example")))
    response = restricted.options("/v1/geolocate")
    assert response.status_code == 200 and response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert "access-control-allow-origin" not in response.headers  # no origin to name
    allowed = restricted.options("/v1/geolocate", headers={"Origin": "https://a.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://a.example"
    off = make_client(make_services(settings=Settings(cors_allow_origins=""))).options("/v2/geosubmit")
    assert off.status_code == 200 and off.headers["allow"] == "OPTIONS, POST"
    assert not [h for h in off.headers if h.startswith("access-control-")]


def test_cors_headers_on_answers_and_on_errors(client: TestClient) -> None:
    origin = {"Origin": "https://maps.example.org"}
    ok = client.post("/v1/geolocate?key=test", json=wifi_body(9, 10), headers=origin)
    error = client.post("/v1/geolocate", json={}, headers=origin)  # keyInvalid envelope
    assert (ok.status_code, error.status_code) == (200, 400)
    for response in (ok, error):
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


def test_cors_origins_can_be_restricted(make_services: Callable[..., Services], make_client: Client) -> None:
    client = make_client(make_services(settings=Settings(cors_allow_origins="https://a.example")))
    allowed = client.post(
        "/v1/geolocate?key=test", json=wifi_body(9, 10), headers={"Origin": "https://a.example"}
    )
    other = client.post(
        "/v1/geolocate?key=test", json=wifi_body(9, 10), headers={"Origin": "https://b.example"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://a.example"
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/v1/geolocate", headers={"Origin": "https://b.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 400


def test_post_on_the_load_balancer_heartbeat_is_405(client: TestClient) -> None:
    """Kept on purpose (docs/api.md, "Differences from Ichnaea"): Ichnaea answered 200."""
    response = client.post("/__lbheartbeat__")
    assert_envelope(response, 405, "global", "methodNotAllowed")
    assert response.headers["allow"] == "GET, HEAD"
