"""The website builder: content types and caching, the countries background, build and publish."""

from __future__ import annotations

from pathlib import Path

import pytest
from openloc.store.objects import MemoryObjectStore
from openloc.website import (
    LIBRARY_CACHE,
    PAGE_CACHE,
    VENDOR,
    SiteBuildError,
    _simplify,
    build_site,
    cache_control,
    content_type,
    countries_geojson,
    publish_site,
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
