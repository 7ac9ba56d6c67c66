"""JSON responses, including the error envelope for every failure mode of the ASGI apps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openloc.api.errors import ApiError, method_not_allowed, service_unavailable, unknown_path
from openloc.observability import logger

if TYPE_CHECKING:
    from pydantic import BaseModel


def json_response(
    model: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    # No isinstance(model, BaseModel): this module is imported at cold start, pydantic is not.
    content = model if isinstance(model, dict) else model.model_dump(mode="json", exclude_none=True)
    return JSONResponse(content, status_code=status, headers=headers)


def error_response(error: ApiError) -> Response:
    return JSONResponse(error.body(), status_code=error.status, headers=dict(error.headers) or None)


async def on_api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in the contract's envelope."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        # Starlette joins the route's method set: sort it so the header is the same every time.
        methods = (exc.headers or {}).get("Allow", "POST").split(",")
        return error_response(method_not_allowed(", ".join(sorted(m.strip() for m in methods))))
    if exc.status_code == 404:
        return error_response(unknown_path())
    return error_response(ApiError(exc.status_code, "global", "badRequest", str(exc.detail)))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """Never a bare 500: log with the stack trace and answer the 503 envelope."""
    logger.exception("unhandled error", extra={"path": request.url.path, "error": type(exc).__name__})
    return error_response(service_unavailable())
