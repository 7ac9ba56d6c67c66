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
from starlette.routing import Route

from openloc.api.errors import ApiError
from openloc.api.guard import ErrorGuard
from openloc.api.responses import on_api_error, on_http_exception, on_unexpected
from openloc.api.routing import ROUTES, RouteSpec
from openloc.api.services import Services

# Headers browser clients send: JSON bodies, gzip bodies (stumblers), GeoClue's nickname header.
CORS_HEADERS = ("Content-Type", "Content-Encoding", "X-Nickname", "X-Email")
CORS_MAX_AGE = 86_400


def with_cors(app: ErrorGuard, origins: str) -> CORSMiddleware | ErrorGuard:
    """The public API's CORS policy: any (or the configured) origin may call every endpoint,
    without credentials; preflights are answered here, error answers carry the headers too."""
    allowed = [o.strip() for o in origins.split(",") if o.strip()]
    if not allowed:
        return app
    return CORSMiddleware(
        app,
        allow_origins=allowed,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=list(CORS_HEADERS),
        allow_credentials=False,
        max_age=CORS_MAX_AGE,
    )


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


def build_app(services: Services, *, locate: bool = True, submit: bool = True) -> CORSMiddleware | ErrorGuard:
    """The app of the locate function, of the submit function, or both (local stack, tests).
    Each route's module is imported on its first request (`openloc.api.routing`)."""

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
    return with_cors(ErrorGuard(app), services.settings.cors_allow_origins)
