"""stats.json, the website build, CloudFront-style path mapping and the demo coverage."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openloc.api.routing import is_api_path
from openloc.ingest.demo_seed import CENTER, STATS_DAYS, demo_coverage, demo_stats, seed_demo
from openloc.jobs.registry import SCHEDULES
from openloc.local.static_site import SECURITY_HEADERS, object_key
from openloc.publish.stats import STATS_CACHE, STATS_KEY, build_stats, run_stats
from openloc.publish.tiles import CoverageGrid, tile_for
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.coverage import MemoryCoverageStore
from openloc.store.objects import MemoryObjectStore
from openloc.store.stations import MemoryStationStore
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

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_stats_days_sorted_with_running_totals() -> None:
    rows = [
        ("observations", "2026-11-22", 40),
        ("new_wifi", "2026-11-22", 3),
        ("reports", "2026-11-21", 2),
        ("new_wifi", "2026-11-21", 5),
        ("new_cell", "2026-11-22", 1),
        ("station_new", "2026-11-22", 99),  # not a published metric
    ]
    document = build_stats(rows, NOW)
    assert [d.day for d in document.days] == ["2026-11-21", "2026-11-22"]
    first, second = document.days
    assert (first.reports, first.new_wifi, first.wifi, first.cell) == (2, 5, 5, 0)
    assert (second.observations, second.new_wifi, second.wifi, second.cell) == (40, 3, 8, 1)
    assert document.updated == "2026-11-23T12:00:00Z"


def test_stats_job_writes_json_with_headers() -> None:
    store = MemoryObjectStore()
    run_stats([("reports", "2026-11-23", 7)], store, NOW)
    stored = store.objects[STATS_KEY]
    assert (stored.content_type, stored.cache_control) == ("application/json", STATS_CACHE)
    assert json.loads(stored.body)["days"][0]["reports"] == 7


def test_memory_coverage_reader() -> None:
    coverage = MemoryCoverageStore()
    coverage.touch_grids([("ne", "52522,13413"), ("sw", "-1,-2")], "2026-11-23")
    coverage.add_stats({"reports": 3, "other": 1}, "2026-11-23")
    assert sorted(coverage.grid_cells()) == ["-1,-2", "52522,13413"]
    assert list(coverage.stat_rows(["reports"])) == [("reports", "2026-11-23", 3)]


def test_schedules_include_tiles_and_stats() -> None:
    tasks = {s.task: s for s in SCHEDULES}
    assert tasks["tiles"].cron == "cron(15 * * * ? *)"
    assert tasks["stats"].cron == "cron(10 * * * ? *)"


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/v1/geolocate", True),
        ("/v2/geosubmit", True),
        ("/__heartbeat__", True),
        ("/openapi.json", True),
        ("/", False),
        ("/index.html", False),
        ("/tiles/13/4401/2686.png", False),
        ("/downloads.json", False),
        ("/exports/cells/full/x.csv.gz", False),
        ("/v1", False),
    ],
)
def test_api_paths_versus_site_paths(path: str, api: bool) -> None:
    assert is_api_path(path) is api


def test_object_keys_like_cloudfront() -> None:
    assert object_key("/") == "index.html"
    assert object_key("/docs/") == "docs/index.html"
    assert object_key("/tiles/1/2/3.png") == "tiles/1/2/3.png"
    assert object_key("/a%20b.json") == "a b.json"
    assert "nosniff" in SECURITY_HEADERS["x-content-type-options"]
    assert "script-src 'self'" in SECURITY_HEADERS["content-security-policy"]


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


def test_demo_coverage_is_deterministic_and_local() -> None:
    cells = demo_coverage()
    assert cells == demo_coverage() and len(cells) > 500
    grid = CoverageGrid.from_grids(grid for _, grid in cells)
    lat_i, lon_i = grid.cells()
    assert abs(lat_i.mean() / 1000 - CENTER[0]) < 0.05 and abs(lon_i.mean() / 1000 - CENTER[1]) < 0.05
    assert tile_for(*CENTER, 13) in {
        tile_for(la / 1000, lo / 1000, 13) for la, lo in zip(lat_i, lon_i, strict=True)
    }


def test_seed_with_coverage_writes_grid_and_stats() -> None:
    coverage = MemoryCoverageStore()
    seed_demo(MemoryStationStore(), MemoryApiKeyStore(), NOW, coverage=coverage)
    assert len(coverage.grids) == len(demo_coverage())
    days = {day for _, day in coverage.stats}
    assert len(days) == STATS_DAYS and max(days) == "2026-11-23"
    assert demo_stats(NOW) == demo_stats(NOW)
