"""The caller's IP, for the GeoIP fallback and per-IP limits (never stored).

Which hop is trusted depends on the deployment (docs/security.md, "Client addresses"):

- **API Gateway directly** (the default): the source IP of the Lambda event's request context
  (`http.sourceIp` for HTTP APIs, payload v2, IPv4 or IPv6 on a dual-stack endpoint;
  `identity.sourceIp` for REST APIs), or else the TCP peer. `X-Forwarded-For` is ignored: it is
  client-controlled.
- **Behind CloudFront** (`ORIGIN_SECRET_ARN` set): only requests that proved they came through
  CloudFront (`openloc.api.origin`) reach the app, and for those the client is CloudFront's
  `CloudFront-Viewer-Address` header (`ip:port`, which CloudFront sets itself from the viewer's
  connection). `X-Forwarded-For` is ignored here too.
- **Own proxies** (`TRUSTED_PROXY_HOPS=n` > 0): the `X-Forwarded-For` entry added by the nearest
  trusted proxy, the n-th address from the right (safe only when the app cannot be reached around
  those proxies). With fewer entries, the request context's source IP.

Entries may be IPv4 or IPv6, bracketed and/or with a port (`[2001:db8::1]:443`,
`192.0.2.1:8080`), and IPv4-mapped IPv6 (`::ffff:192.0.2.1`) becomes IPv4.
"""

from __future__ import annotations

import hashlib
import ipaddress

from starlette.requests import Request

# Set by CloudFront on origin requests (when the origin request policy includes it): the viewer's
# address and port, `198.51.100.7:46532` or `2001:db8::1:46532`.
VIEWER_ADDRESS_HEADER = "cloudfront-viewer-address"
# The ASGI scope entry `openloc.api.origin.OriginGuard` sets on requests that carried the origin secret.
VIA_CDN_SCOPE = "openloc.via_cdn"

# Per-IP limits group IPv6 addresses by /64: one subscriber usually holds a whole /64 and its
# devices rotate privacy addresses inside it, so a full address would be a fresh budget each time.
IPV6_LIMIT_PREFIX = 64


def normalize_ip(value: str | None) -> str | None:
    """The canonical text of an address as proxies and API Gateway write it, or None."""
    if not value:
        return None
    text = value.strip().strip('"')
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # v4:port (a bare IPv6 address has at least two colons)
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]  # an IPv6 zone id ("fe80::1%eth0")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def address_group(ip: str) -> str:
    """What per-IP limits count: an IPv4 address itself, the /64 network of an IPv6 address."""
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_LIMIT_PREFIX}", strict=False))
    return str(address)


def ip_digest(ip: str, key: str) -> str:
    """What Redis counters are named by instead of an address: a keyed BLAKE2b hash (24 hex)."""
    return hashlib.blake2b(ip.encode(), key=key.encode()[:64], digest_size=12).hexdigest()


def viewer_address(value: str | None) -> str | None:
    """The address of a `CloudFront-Viewer-Address` value (`ip:port`, IPv6 unbracketed), or None."""
    if not value or ":" not in value:
        return None
    address, _, port = value.strip().rpartition(":")
    if not port.isascii() or not port.isdigit():
        return None
    return normalize_ip(f"[{address}]" if ":" in address else address)


def client_ip(request: Request, trusted_hops: int) -> str | None:
    if request.scope.get(VIA_CDN_SCOPE):
        return viewer_address(request.headers.get(VIEWER_ADDRESS_HEADER))
    if trusted_hops > 0:
        forwarded = [p for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
        if len(forwarded) >= trusted_hops:
            return normalize_ip(forwarded[-trusted_hops])
    event = request.scope.get("aws.event")
    if isinstance(event, dict):
        context = event.get("requestContext") or {}
        source = (context.get("http") or {}).get("sourceIp") or (context.get("identity") or {}).get(
            "sourceIp"
        )
        if source:
            return normalize_ip(source)
    return normalize_ip(request.client.host) if request.client else None
