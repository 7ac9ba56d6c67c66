"""The local static site: CloudFront-style object keys and security headers."""

from __future__ import annotations

from openloc.local.static_site import SECURITY_HEADERS, object_key


def test_object_keys_like_cloudfront() -> None:
    assert object_key("/") == "index.html"
    assert object_key("/docs/") == "docs/index.html"
    assert object_key("/tiles/1/2/3.png") == "tiles/1/2/3.png"
    assert object_key("/a%20b.json") == "a b.json"
    assert "nosniff" in SECURITY_HEADERS["x-content-type-options"]
    assert "script-src 'self'" in SECURITY_HEADERS["content-security-policy"]
