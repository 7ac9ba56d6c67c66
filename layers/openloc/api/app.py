"""ASGI apps: the locate app and the submit app the Lambda handlers serve, and both together locally."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from openloc.api.errors import ApiError
from openloc.api.guard import ErrorGuard
from openloc.api.locate_routes import locate_routes
from openloc.api.monitor_routes import monitor_routes
from openloc.api.offline_routes import offline_routes
from openloc.api.openapi import openapi_document
from openloc.api.origin import OriginGuard
from openloc.api.responses import on_api_error, on_http_exception, on_unexpected
from openloc.api.services import Services
from openloc.api.submit_routes import submit_routes
from openloc.api.transfer_routes import transfer_routes

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


def build_app(
    services: Services, *, locate: bool = True, submit: bool = True
) -> OriginGuard | CORSMiddleware | ErrorGuard:
    """The ASGI app; behind CloudFront (`services.origin_secret`), the origin check is outermost:
    a request that did not come through CloudFront gets nothing but a 403."""

    async def _openapi(_request: Request) -> Response:
        return JSONResponse(openapi_document(services.settings.openloc_key_policy))

    routes: list[Route] = [*monitor_routes(services), Route("/openapi.json", _openapi, methods=["GET"])]
    if locate:
        routes += locate_routes(services) + offline_routes(services)
    if submit:
        routes += submit_routes(services) + transfer_routes(services)
    app = Starlette(
        routes=routes,
        exception_handlers={
            ApiError: on_api_error,
            HTTPException: on_http_exception,
            Exception: on_unexpected,
        },
    )
    served = with_cors(ErrorGuard(app), services.settings.cors_allow_origins)
    if services.origin_secret is not None:
        return OriginGuard(served, services.origin_secret)
    return served
