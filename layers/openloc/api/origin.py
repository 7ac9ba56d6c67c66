"""Behind CloudFront, only CloudFront may reach the API: the origin secret check.

With `ORIGIN_SECRET_ARN` set (the stack sets it when `openloc:api_behind_cdn` is true), CloudFront
sends the secret's value in the `X-Origin-Verify` header of every origin request, and this
outermost middleware refuses any request that does not carry a value the secret currently holds
(its AWSCURRENT, AWSPENDING or AWSPREVIOUS version, so a rotation never locks CloudFront out
while the distribution changes over). The values are cached (`SECRETS_CACHE_SECONDS`); a value
that is not among them makes the guard re-read the secret once, at most every
`REFRESH_SECONDS`, so a rotated value is accepted within seconds and a flood of wrong values
costs at most one Secrets Manager read per period and process. Refused requests get
`403 global/forbidden` before any other work (no key lookup, no limit counted). Accepted
requests are marked (`VIA_CDN_SCOPE`) so that `openloc.api.client_ip` takes the client address
from CloudFront's `CloudFront-Viewer-Address`.

The header's value is compared with `hmac.compare_digest`, never logged, and removed from the
request before the app sees it.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable, Collection

from aws_lambda_powertools.metrics import MetricUnit
from starlette.types import ASGIApp, Receive, Scope, Send

from openloc.api.client_ip import VIA_CDN_SCOPE
from openloc.api.errors import ApiError, service_unavailable
from openloc.observability import logger, metrics

ORIGIN_HEADER = "x-origin-verify"
_ORIGIN_HEADER_BYTES = ORIGIN_HEADER.encode()
REFRESH_SECONDS = 30.0


def forbidden() -> ApiError:
    return ApiError(403, "global", "forbidden", "Forbidden: use the service's public address")


def carries_secret(presented: str | None, accepted: Collection[str]) -> bool:
    """True when `presented` equals one of the accepted values (each compared in constant time)."""
    if not presented:
        return False
    matches = [hmac.compare_digest(presented.encode(), value.encode()) for value in accepted if value]
    return any(matches)


class OriginGuard:
    """ASGI middleware: `accepted(fresh)` gives the secret's values (cached by the store unless
    `fresh`)."""

    def __init__(
        self,
        app: ASGIApp,
        accepted: Callable[[bool], Collection[str]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.accepted = accepted
        self.clock = clock
        self._refreshed = float("-inf")

    def _verified(self, presented: str | None) -> bool:
        if not presented:
            return False
        if carries_secret(presented, self.accepted(False)):
            return True
        now = self.clock()
        if now - self._refreshed < REFRESH_SECONDS:
            return False
        self._refreshed = now
        return carries_secret(presented, self.accepted(True))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        presented = next((v.decode("latin-1") for k, v in headers if k.lower() == _ORIGIN_HEADER_BYTES), None)
        try:
            verified = self._verified(presented)
        except Exception as error:  # Secrets Manager unreachable: nothing can be verified
            logger.error("origin secret unavailable", extra={"error": type(error).__name__})
            await _answer(service_unavailable(), send)
            return
        if not verified:
            metrics.add_metric(name="OriginRefused", unit=MetricUnit.Count, value=1)
            await _answer(forbidden(), send)
            return
        inner = dict(scope)
        inner["headers"] = [(k, v) for k, v in headers if k.lower() != _ORIGIN_HEADER_BYTES]
        inner[VIA_CDN_SCOPE] = True
        await self.app(inner, receive, send)


async def _answer(error: ApiError, send: Send) -> None:
    body = json.dumps(error.body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
