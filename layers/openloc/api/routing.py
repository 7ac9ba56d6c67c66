"""Which Lambda function serves which path (API Gateway routes; the local proxy does the same),
which paths belong to the API at all (CloudFront sends the others to the website bucket), and
the route table the ASGI apps are built from (`api.app.build_app`).

The table names each endpoint's module and method instead of importing it: a function imports
the module of a route on its first request, so the locate function's cold start never imports
the submit code, and neither imports the wire schemas (pydantic) before a request needs them
(SnapStart's before-snapshot hook imports them all: `api.services.warm_up`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Function = Literal["locate", "submit", "both"]


@dataclass(frozen=True)
class RouteSpec:
    path: str
    methods: tuple[str, ...]
    function: Function  # the Lambda function serving it ("both": the monitoring endpoints)
    module: str  # openloc.api.<module> holding the endpoints class
    endpoints: str  # the class, constructed once per app with the app's Services
    method: str  # its async method answering the request


_HEAD = ("GET", "HEAD")
# GET (and HEAD, which Starlette adds to GET routes) asks for the IP-based answer: no body is read.
LOCATE_METHODS = ("GET", "POST")
ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/__heartbeat__", _HEAD, "both", "monitor_routes", "MonitorEndpoints", "heartbeat"),
    RouteSpec("/__lbheartbeat__", _HEAD, "both", "monitor_routes", "MonitorEndpoints", "lbheartbeat"),
    RouteSpec("/__version__", _HEAD, "both", "monitor_routes", "MonitorEndpoints", "version"),
    RouteSpec("/v1/geolocate", LOCATE_METHODS, "locate", "locate_routes", "LocateEndpoints", "geolocate"),
    RouteSpec("/v1/region", LOCATE_METHODS, "locate", "locate_routes", "LocateEndpoints", "region"),
    RouteSpec("/v1/country", LOCATE_METHODS, "locate", "locate_routes", "LocateEndpoints", "region"),
    RouteSpec("/v1/search", LOCATE_METHODS, "locate", "locate_routes", "LocateEndpoints", "search"),
    RouteSpec("/v1/offline/{region}", ("GET",), "locate", "offline_routes", "OfflineEndpoints", "pack"),
    # The submit function also serves instance sync (/v1/transfer): both write data, neither is on
    # the locate hot path.
    RouteSpec("/v2/geosubmit", ("POST",), "submit", "submit_routes", "SubmitEndpoints", "geosubmit_v2"),
    RouteSpec("/v1/geosubmit", ("POST",), "submit", "submit_routes", "SubmitEndpoints", "geosubmit_v1"),
    RouteSpec("/v1/submit", ("POST",), "submit", "submit_routes", "SubmitEndpoints", "submit_legacy"),
    RouteSpec("/v1/transfer", ("POST",), "submit", "transfer_routes", "TransferEndpoint", "transfer"),
)
SUBMIT_PATHS = frozenset(route.path for route in ROUTES if route.function == "submit")
# CloudFront behaviours that go to API Gateway; every other path is served from the assets bucket.
API_PATH_PREFIXES = ("/v1/", "/v2/", "/__")
API_PATHS = frozenset({"/openapi.json"})


def function_for_path(path: str) -> str:
    """`submit` for submission paths, `locate` for everything else (including unknown paths → 404)."""
    return "submit" if path in SUBMIT_PATHS else "locate"


def is_api_path(path: str) -> bool:
    """True for the API's paths (`/v1/*`, `/v2/*`, `/__*`, `/openapi.json`), False for the website."""
    return path in API_PATHS or path.startswith(API_PATH_PREFIXES)
