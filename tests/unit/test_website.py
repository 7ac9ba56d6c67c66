"""The website builder: content types and caching, the countries background, build and publish, the
map's configurable base layer and the CSP that goes with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openloc.settings import Settings
from openloc.store.objects import MemoryObjectStore
from openloc.website import (
    CONTENT_SECURITY_POLICY,
    LIBRARY_CACHE,
    PAGE_CACHE,
    VENDOR,
    Basemap,
    BasemapError,
    SiteBuildError,
    _simplify,
    basemap_from_settings,
    build_site,
    cache_control,
    content_security_policy,
    content_type,
    countries_geojson,
    publish_site,
    site_config,
    site_files,
)


def test_content_types_and_caching() -> None:
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type("vendor/leaflet/leaflet.js") == "text/javascript; charset=utf-8"
    assert content_type("vendor/leaflet/images/marker-icon.png") == "image/png"
    assert content_type("vendor/uplot/LICENSE") == "text/plain; charset=utf-8"
    assert content_type("something.bin") == "application/octet-stream"
    assert cache_control("stats.html") == PAGE_CACHE
    assert cache_control("vendor/pmtiles/pmtiles.js") == LIBRARY_CACHE


def test_simplify_drops_close_vertices_and_islets() -> None:
    square = [(0.0, 0.0), (0.01, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    assert _simplify(square) == [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    assert _simplify([(0.0, 0.0), (0.05, 0.0), (0.05, 0.05)]) == []


def test_countries_background_is_valid_geojson() -> None:
    geojson = countries_geojson()
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) > 100
    for feature in geojson["features"]:
        for ring in feature["geometry"]["coordinates"]:
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in ring)


def _fake_checkout(root: Path) -> None:
    (root / "web" / "assets").mkdir(parents=True)
    (root / "web" / "index.html").write_text("<!doctype html>")
    (root / "web" / "assets" / "map.js").write_text("//")
    for source in VENDOR.values():
        path = root / "node_modules" / source
        if source.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            (path / "icon.png").write_bytes(b"png")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)


def test_site_build_and_publish(tmp_path: Path) -> None:
    _fake_checkout(tmp_path)
    files = site_files(tmp_path)
    assert {
        "index.html",
        "assets/map.js",
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/images/icon.png",
    } <= set(files)
    assert "basemap/countries.geojson" in files
    out = tmp_path / "out"
    assert build_site(out, tmp_path) == len(files)
    assert (out / "vendor" / "pmtiles" / "pmtiles.js").read_text() == "pmtiles/dist/pmtiles.js"
    store = MemoryObjectStore()
    assert publish_site(store, files) == len(files)
    assert store.objects["index.html"].content_type == "text/html; charset=utf-8"
    assert store.objects["vendor/uplot/uPlot.iife.min.js"].cache_control == LIBRARY_CACHE


def test_site_build_without_npm_libraries_says_so(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    with pytest.raises(SiteBuildError, match="npm install"):
        site_files(tmp_path)
    with pytest.raises(SiteBuildError, match="web/"):
        site_files(tmp_path / "nowhere")


OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def test_site_config_and_policy_without_a_base_layer(tmp_path: Path) -> None:
    """By default the map uses the country outlines: config.json names no base layer and the CSP
    allows no other host."""
    _fake_checkout(tmp_path)
    assert json.loads(site_files(tmp_path)["config.json"]) == {"basemap": None}
    assert content_security_policy() == CONTENT_SECURITY_POLICY
    assert "img-src 'self' data: blob:;" in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


def test_site_config_and_policy_with_a_base_layer(tmp_path: Path) -> None:
    _fake_checkout(tmp_path)
    osm = Basemap(OSM, "© OpenStreetMap contributors", "https://www.openstreetmap.org/copyright", 19)
    assert json.loads(site_files(tmp_path, osm)["config.json"]) == {
        "basemap": {
            "url": OSM,
            "attribution": "© OpenStreetMap contributors",
            "attributionUrl": "https://www.openstreetmap.org/copyright",
            "maxZoom": 19,
        }
    }
    policy = content_security_policy(osm)
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org;" in policy
    assert policy.count("openstreetmap") == 1  # images only: no script, style or connect source
    subdomains = Basemap("https://{s}.tiles.example.org/base/{z}/{x}/{y}{r}.png", "© Example")
    assert subdomains.origin == "https://*.tiles.example.org"
    assert Basemap("http://127.0.0.1:8111/{z}/{x}/{y}.png", "local").origin == "http://127.0.0.1:8111"
    assert Basemap.from_json(json.loads(site_config(osm))["basemap"]) == osm
    assert Basemap.from_json({"url": "javascript:alert(1)//{z}{x}{y}", "attribution": "x"}) is None
    assert Basemap.from_json(None) is None and Basemap.from_json({"url": OSM}) is None


@pytest.mark.parametrize(
    ("url", "attribution", "message"),
    [
        ("http://tiles.example.org/{z}/{x}/{y}.png", "x", "must use https"),
        ("tiles.example.org/{z}/{x}/{y}.png", "x", "must be an https:// URL"),
        ("https://tiles.example.org/{z}/{x}.png", "x", "needs {z}, {x} and {y}"),
        ("https://tiles.example.org/{z}/{x}/{y}/{token}.png", "x", "needs {z}, {x} and {y}"),
        ("https://tiles.example.org/{z}/{x}/{y}.png; script-src *", "x", "characters"),
        ("https://tiles.example.org/{z}/{x}/{y}.png' 'unsafe-eval", "x", "characters"),
        ("https://user@tiles.example.org/{z}/{x}/{y}.png", "x", "must be an https:// URL"),
        ("https://tiles.{z}.example.org/{x}/{y}.png", "x", "only {s} may stand in the host"),
        (OSM, "", "needs its attribution"),
        (OSM, "x" * 201, "needs its attribution"),
    ],
)
def test_unsafe_or_incomplete_base_layers_are_refused(url: str, attribution: str, message: str) -> None:
    with pytest.raises(BasemapError, match=re.escape(message)):
        Basemap(url, attribution)


def test_base_layer_from_settings() -> None:
    assert basemap_from_settings(Settings()) is None
    configured = Settings(
        openloc_basemap_url=OSM,
        openloc_basemap_attribution="© OpenStreetMap contributors",
        openloc_basemap_max_zoom=18,
    )
    assert basemap_from_settings(configured) == Basemap(OSM, "© OpenStreetMap contributors", "", 18)
    with pytest.raises(BasemapError, match=re.escape("max zoom must be 0-22")):
        Basemap(OSM, "x", max_zoom=23)
    with pytest.raises(BasemapError, match="attribution link"):
        Basemap(OSM, "x", attribution_url="ftp://example.org")
