"""The caller's IP, for the GeoIP fallback and per-IP limits (never stored).

Behind API Gateway the source IP is in the Lambda event's request context. Elsewhere, the
`X-Forwarded-For` entry added by the nearest trusted proxy is used: with `TRUSTED_PROXY_HOPS=n`
the n-th address from the right; with 0 the header is ignored (it is client-controlled).
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request


def _valid(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: Request, trusted_hops: int) -> str | None:
    event = request.scope.get("aws.event")
    if isinstance(event, dict):
        context = event.get("requestContext") or {}
        source = (context.get("http") or {}).get("sourceIp") or (context.get("identity") or {}).get(
            "sourceIp"
        )
        if source:
            return _valid(source)
    if trusted_hops > 0:
        forwarded = [p for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
        if len(forwarded) >= trusted_hops:
            return _valid(forwarded[-trusted_hops])
    return _valid(request.client.host) if request.client else None
