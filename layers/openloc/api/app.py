"""ASGI apps: the locate app and the submit app the Lambda handlers serve, and both together locally."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from openloc.api.errors import ApiError
from openloc.api.guard import ErrorGuard
from openloc.api.locate_routes import locate_routes
from openloc.api.monitor_routes import monitor_routes
from openloc.api.offline_routes import offline_routes
from openloc.api.openapi import openapi_document
from openloc.api.responses import on_api_error, on_http_exception, on_unexpected
from openloc.api.services import Services
from openloc.api.submit_routes import submit_routes
from openloc.api.transfer_routes import transfer_routes


def build_app(services: Services, *, locate: bool = True, submit: bool = True) -> ErrorGuard:
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
    return ErrorGuard(app)
