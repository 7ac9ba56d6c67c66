"""The local static site: CloudFront-style object keys and security headers, the CSP following the
published config.json's base layer."""

from __future__ import annotations

from typing import Any

import pytest
from openloc.local import static_site
from openloc.local.static_site import SECURITY_HEADERS, StaticSite, object_key
from openloc.website import CONTENT_SECURITY_POLICY, Basemap, site_config

from tests.unit.support import BUCKET


def test_object_keys_like_cloudfront() -> None:
    assert object_key("/") == "index.html"
    assert object_key("/docs/") == "docs/index.html"
    assert object_key("/tiles/1/2/3.png") == "tiles/1/2/3.png"
    assert object_key("/a%20b.json") == "a b.json"
    assert "nosniff" in SECURITY_HEADERS["x-content-type-options"]
    assert "script-src 'self'" in SECURITY_HEADERS["content-security-policy"]


def test_policy_follows_the_published_config(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(static_site, "POLICY_SECONDS", 0.0)
    site = StaticSite(s3, BUCKET)
    assert site.headers()["content-security-policy"] == CONTENT_SECURITY_POLICY  # no config.json yet
    tiles = Basemap("http://127.0.0.1:8111/{z}/{x}/{y}.png", "© Test tiles")
    s3.put_object(Bucket=BUCKET, Key="config.json", Body=site_config(tiles))
    assert "img-src 'self' data: blob: http://127.0.0.1:8111;" in site.headers()["content-security-policy"]
    for broken in (
        b"not json",
        b"[]",
        b'{"basemap": {"url": "https://x.example/a.png", "attribution": "x"}}',
    ):
        s3.put_object(Bucket=BUCKET, Key="config.json", Body=broken)
        assert site.headers()["content-security-policy"] == CONTENT_SECURITY_POLICY
