"""ASGI apps: the locate app and the submit app the Lambda handlers serve, and both together locally."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from openloc.api.errors import ApiError
from openloc.api.guard import ErrorGuard
from openloc.api.origin import OriginGuard
from openloc.api.responses import on_api_error, on_http_exception, on_unexpected
from openloc.api.routing import ROUTES, RouteSpec
from openloc.api.services import Services

# Headers browser clients send: JSON bodies, gzip bodies (stumblers), GeoClue's nickname header.
CORS_HEADERS = ("Content-Type", "Content-Encoding", "X-Nickname", "X-Email")
CORS_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
# Browsers cap it anyway (Firefox at 24 h, Chromium at 2 h); Ichnaea sent 30 days.
CORS_MAX_AGE = 86_400


def _origins(origins: str) -> list[str]:
    return [o.strip() for o in origins.split(",") if o.strip()]


def with_cors(app: ErrorGuard, origins: str) -> CORSMiddleware | ErrorGuard:
    """The public API's CORS policy: any (or the configured) origin may call every endpoint,
    without credentials; preflights are answered here, error answers carry the headers too."""
    allowed = _origins(origins)
    if not allowed:
        return app
    return CORSMiddleware(
        app,
        allow_origins=allowed,
        allow_methods=list(CORS_METHODS),
        allow_headers=list(CORS_HEADERS),
        allow_credentials=False,
        max_age=CORS_MAX_AGE,
    )


def options_headers(origins: str) -> dict[str, str]:
    """What an OPTIONS request that is not a CORS preflight is told of the CORS policy (nothing
    when CORS is off; the origin only when any origin may call)."""
    allowed = _origins(origins)
    if not allowed:
        return {}
    headers = {
        "Access-Control-Allow-Methods": ", ".join(CORS_METHODS),
        "Access-Control-Allow-Headers": ", ".join(CORS_HEADERS),
        "Access-Control-Max-Age": str(CORS_MAX_AGE),
    }
    if "*" in allowed:
        headers["Access-Control-Allow-Origin"] = "*"
    return headers


class OptionsAnswer:
    """`OPTIONS` that is not a CORS preflight (no `Origin` or no `Access-Control-Request-Method`,
    as API tools send it) on a known path: 200 with the path's methods in `Allow` and the CORS
    policy's headers, as Ichnaea answered it (instead of Starlette's 405). Real preflights are
    answered before this by the CORS middleware; unknown paths stay 404."""

    def __init__(self, app: Starlette, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    def allowed(self, scope: Scope) -> set[str]:
        """The methods the routes of this path accept (empty for an unknown path)."""
        methods: set[str] = set()
        for route in self.app.routes:
            if isinstance(route, Route) and route.methods and route.matches(scope)[0] is not Match.NONE:
                methods |= route.methods
        return methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS" and (methods := self.allowed(scope)):
            allow = ", ".join(sorted(methods | {"OPTIONS"}))
            await Response(status_code=200, headers={**self.headers, "Allow": allow})(scope, receive, send)
            return
        await self.app(scope, receive, send)


Endpoint = Callable[[Request], Awaitable[Response]]


class _Endpoints:
    """The endpoint classes of one app, each imported and constructed on its first request."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._instances: dict[tuple[str, str], object] = {}

    def resolve(self, spec: RouteSpec) -> Endpoint:
        instance = self._instances.get((spec.module, spec.endpoints))
        if instance is None:
            module = importlib.import_module(f"openloc.api.{spec.module}")
            instance = getattr(module, spec.endpoints)(self.services)
            self._instances[(spec.module, spec.endpoints)] = instance
        return cast(Endpoint, getattr(instance, spec.method))

    def endpoint(self, spec: RouteSpec) -> Endpoint:
        resolved: list[Endpoint] = []

        async def endpoint(request: Request) -> Response:
            if not resolved:
                resolved.append(self.resolve(spec))
            return await resolved[0](request)

        endpoint.__name__ = spec.method
        return endpoint

    def load_all(self, specs: list[RouteSpec]) -> None:
        """Import every route module now (the SnapStart warm-up)."""
        for spec in specs:
            self.resolve(spec)


def served_routes(*, locate: bool = True, submit: bool = True) -> list[RouteSpec]:
    """The route table of an app serving locate, submit or both."""
    wanted = {"both"} | ({"locate"} if locate else set()) | ({"submit"} if submit else set())
    return [spec for spec in ROUTES if spec.function in wanted]


def build_app(
    services: Services, *, locate: bool = True, submit: bool = True
) -> OriginGuard | CORSMiddleware | ErrorGuard:
    """The app of the locate function, of the submit function, or both (local stack, tests).
    Each route's module is imported on its first request (`openloc.api.routing`). Behind
    CloudFront (`services.origin_secret`), the origin check is outermost: a request that did not
    come through CloudFront gets nothing but a 403."""

    async def _openapi(_request: Request) -> Response:
        from openloc.api.openapi import openapi_document

        return JSONResponse(openapi_document(services.settings.openloc_key_policy))

    specs = served_routes(locate=locate, submit=submit)
    endpoints = _Endpoints(services)
    services.warm_routes = lambda: endpoints.load_all(specs)
    routes: list[Route] = [
        Route(spec.path, endpoints.endpoint(spec), methods=list(spec.methods)) for spec in specs
    ]
    routes.append(Route("/openapi.json", _openapi, methods=["GET"]))
    app = Starlette(
        routes=routes,
        exception_handlers={
            ApiError: on_api_error,
            HTTPException: on_http_exception,
            Exception: on_unexpected,
        },
    )
    origins = services.settings.cors_allow_origins
    served = with_cors(ErrorGuard(OptionsAnswer(app, options_headers(origins))), origins)
    if services.origin_secret is not None:
        return OriginGuard(served, services.origin_secret)
    return served
