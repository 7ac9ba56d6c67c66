"""An ASGI app that plays API Gateway (HTTP API, payload v2): each request becomes a Lambda
event for the locate or submit handler, and the handler's answer becomes the HTTP response.
So the local API runs exactly the code path of the deployed one (Mangum, Powertools, app).

Like CloudFront in front of both, paths that are not API paths (`openloc.api.routing.is_api_path`)
are answered from the assets bucket when a `StaticSite` is given (the website, tiles, downloads).

It refuses what AWS refuses before the function runs (docs/api.md, "Request bodies"):

- a body over API Gateway's 10 MiB request limit: 413 `{"message":"Request Entity Too Large"}`,
  refused from its declared Content-Length, or, for a chunked body, as soon as the chunks read
  pass the limit (the rest is never read: memory stays within the limit plus one chunk);
- an event over Lambda's 6 MiB synchronous invocation payload: 413 `{"message":"Request Too
  Long"}`. The event carries the body as text when its Content-Type is textual and it has no
  Content-Encoding (JSON-escaped inside the event), otherwise base64-encoded (4/3 larger): a gzip
  body of more than ~4.5 MiB never reaches the function."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from openloc.api.routing import function_for_path, is_api_path
from openloc.local.functions import Handler, invoke
from openloc.local.static_site import StaticSite
from openloc.observability import logger

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway HTTP API request limit
MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload (the event)
LOOPBACK = frozenset({"127.0.0.1", "::1"})
_TEXT_TYPE = re.compile(r"\s*(text/|application/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript)\b)", re.I)


def _as_text(headers: dict[str, str], body: bytes) -> str | None:
    """The body as API Gateway passes a text payload, or None when it base64-encodes it."""
    if headers.get("content-encoding") or not _TEXT_TYPE.match(headers.get("content-type", "")):
        return None
    try:
        return body.decode()
    except UnicodeDecodeError:
        return None


def event_bytes(event: dict[str, Any]) -> int:
    """The size of the event as Lambda receives it (JSON, UTF-8)."""
    return len(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode())


def api_gateway_event(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, source_ip: str
) -> dict[str, Any]:
    now = time.time()
    text = _as_text(headers, body) if body else None
    params: dict[str, str] = {}
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        if name:
            params[unquote_plus(name)] = unquote_plus(value)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "queryStringParameters": params or None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text if text is not None else base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body) and text is None,
    }


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as more than `limit` bytes arrived (not read further)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _too_large(message: str) -> Response:
    return Response(json.dumps({"message": message}).encode(), 413, media_type="application/json")


class LambdaProxy:
    def __init__(self, handlers: Callable[[str], Handler], site: StaticSite | None = None) -> None:
        self.handlers = handlers
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        if self.site is not None and not is_api_path(request.url.path):
            await (await self.site.serve(request))(scope, receive, send)
            return
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
            await _too_large("Request Entity Too Large")(scope, receive, send)
            return
        body = await read_body(request, MAX_PAYLOAD_BYTES)
        if body is None:
            await _too_large("Request Entity Too Large")(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in request.headers.items()}
        name = function_for_path(request.url.path)
        peer = request.client.host if request.client else "127.0.0.1"
        forwarded = [p.strip() for p in headers.get("x-forwarded-for", "").split(",") if p.strip()]
        if forwarded and peer in LOOPBACK:
            # Local convenience: a request from this machine may say which client it stands for
            # (curl -H 'X-Forwarded-For: 81.2.69.142'), so the GeoIP fallback can be tried locally.
            peer = forwarded[-1]
        event = api_gateway_event(
            request.method,
            request.url.path,
            scope.get("query_string", b"").decode("latin-1"),
            headers,
            body,
            peer,
        )
        if event_bytes(event) > MAX_INVOKE_PAYLOAD_BYTES:  # Lambda refuses the invocation
            await _too_large("Request Too Long")(scope, receive, send)
            return
        try:
            result = await run_in_threadpool(invoke, self.handlers(name), name, event)
        except Exception:  # what API Gateway answers when the function itself fails
            logger.exception("lambda invocation failed", extra={"function": name})
            result = {
                "statusCode": 500,
                "body": '{"message":"Internal Server Error"}',
                "headers": {"content-type": "application/json"},
            }
        raw = result.get("body") or ""
        content = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        response = Response(content, status_code=int(result.get("statusCode", 502)))
        for key, value in (result.get("headers") or {}).items():
            if key.lower() != "content-length":
                response.headers[key] = value
        await response(scope, receive, send)
