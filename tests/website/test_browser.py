"""The website in headless chromium: every page loads without console errors or failed requests,
the map draws coverage tiles read from the local stack, downloads/stats/API pages render."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from openloc.local.stack import LocalStack
from openloc.model.kinds import FileKind
from openloc.publish.manifest import read_manifest
from openloc.store.aws import client
from openloc.store.objects import S3ObjectStore

from tests.website.conftest import EXPORT_KEY, OLDER_EXPORT_KEY

pytestmark = pytest.mark.browser


@dataclass
class PageLog:
    errors: list[str] = field(default_factory=list)
    responses: list[tuple[str, int]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any, site_stack: LocalStack) -> Iterator[tuple[Any, PageLog]]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=site_stack.url)
    page = context.new_page()
    log = PageLog()
    page.on("console", lambda message: log.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: log.errors.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: log.errors.append(f"request failed: {request.url}"))
    page.on("response", lambda response: log.responses.append((response.url, response.status)))
    page.on("request", lambda request: log.requests.append(request.url))
    try:
        yield page, log
    finally:
        context.close()


def open_map(tab: Any, basemap: str) -> None:
    """Open the map page and wait until its base layer (`outlines` or `raster`) and coverage tiles
    are drawn and the network is quiet."""
    tab.goto("/")
    tab.wait_for_selector(f"body[data-basemap='{basemap}'][data-basemap-ready='1'][data-map-ready='1']")
    tab.wait_for_function("document.querySelectorAll('img.coverage-tile').length > 0")
    tab.wait_for_load_state("networkidle")


def _outside(log: PageLog, site: str) -> set[str]:
    """Hosts of the page's network requests that are not the site (blob: and data: URLs are made
    in the page and never leave it)."""
    return {
        url.split("/")[2] for url in log.requests if url.startswith("http") and not url.startswith(site + "/")
    }


def _bad_responses(log: PageLog) -> list[tuple[str, int]]:
    return [(url, status) for url, status in log.responses if status >= 400]


def test_map_shows_coverage_tiles(
    page: tuple[Any, PageLog], site_stack: LocalStack, screenshots: Path
) -> None:
    tab, log = page
    open_map(tab, "outlines")
    drawn = tab.eval_on_selector_all(
        "img.coverage-tile", "tiles => tiles.filter(t => t.complete && t.naturalWidth === 256).length"
    )
    assert drawn > 0
    archive = [status for url, status in log.responses if url.endswith("/tiles/coverage.pmtiles")]
    assert archive and all(status in (200, 206) for status in archive)
    # The map opened on the seeded coverage (the archive's centre), not on the world view.
    assert tab.evaluate("document.querySelector('#map-status').textContent").startswith("Coverage tiles")
    tab.screenshot(path=str(screenshots / "map.png"))
    assert log.errors == [] and _bad_responses(log) == []
    # Without a configured base layer the map draws country outlines: no request leaves the site.
    assert log.requests and _outside(log, site_stack.url) == set()


def test_png_tiles_are_served(page: tuple[Any, PageLog], site_stack: LocalStack) -> None:
    tab, _ = page
    from openloc.ingest.demo_seed import CENTER
    from openloc.publish.tiles import tile_for

    x, y = tile_for(*CENTER, 13)
    response = tab.request.get(f"/tiles/13/{x}/{y}.png")
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    assert response.body().startswith(b"\x89PNG")


def test_downloads_lists_latest_export(
    page: tuple[Any, PageLog], site_stack: LocalStack, screenshots: Path
) -> None:
    manifest, _ = read_manifest(S3ObjectStore(client("s3"), site_stack.settings.assets_bucket))
    assert manifest is not None
    ordered = sorted(manifest.files, key=lambda f: f.created, reverse=True)
    newest_first = [f.path for f in ordered if f.kind == FileKind.CELL_FULL]
    # The stack's own full export (run at start) is newer than the two listed by the fixture.
    assert newest_first[0].startswith("exports/cells/full/") and newest_first[1:] == [
        EXPORT_KEY,
        OLDER_EXPORT_KEY,
    ]
    tab, log = page
    tab.goto("/downloads.html")
    tab.wait_for_selector("body[data-ready='1']")
    rows = tab.eval_on_selector_all(
        "#downloads tbody tr", "rows => rows.map(r => [r.dataset.kind, r.dataset.path, r.className])"
    )
    cells = [[path, kind] for kind_name, path, kind in rows if kind_name == FileKind.CELL_FULL]
    assert cells == [[newest_first[0], "latest"], [EXPORT_KEY, ""], [OLDER_EXPORT_KEY, ""]]
    # The offline packs the stack published at start are listed too (the first one as "latest").
    packs = {f.path for f in ordered if f.kind == FileKind.OFFLINE_PACK}
    pack_rows = [(path, kind) for kind_name, path, kind in rows if kind_name == FileKind.OFFLINE_PACK]
    assert packs and {path for path, _ in pack_rows} == packs
    assert [kind for _, kind in pack_rows] == ["latest"] + [""] * (len(packs) - 1)
    link = tab.get_attribute("#downloads tbody tr.latest[data-kind='cell-full'] a", "href")
    assert link == "/" + newest_first[0]
    download = tab.request.get(link)
    assert download.status == 200 and gzip.decompress(download.body()).startswith(b"radio,mcc,net,area,cell")
    tab.screenshot(path=str(screenshots / "downloads.png"), full_page=True)
    assert log.errors == [] and _bad_responses(log) == []


def test_stats_page_draws_charts(page: tuple[Any, PageLog], screenshots: Path) -> None:
    tab, log = page
    tab.goto("/stats.html")
    tab.wait_for_selector("body[data-ready='1']")
    assert tab.locator(".chart canvas").count() == 2
    days = tab.locator("#stats-table tbody tr").count()
    assert days > 0
    tab.screenshot(path=str(screenshots / "stats.png"), full_page=True)
    assert log.errors == [] and _bad_responses(log) == []


def test_api_page_renders_openapi(page: tuple[Any, PageLog], screenshots: Path) -> None:
    tab, log = page
    tab.goto("/api.html")
    tab.wait_for_selector("body[data-ready='1']")
    tab.wait_for_selector(".opblock")
    paths = tab.eval_on_selector_all(".opblock-summary-path", "nodes => nodes.map(n => n.textContent)")
    assert any("/v1/geolocate" in path for path in paths)
    assert any("/v2/geosubmit" in path for path in paths)
    tab.screenshot(path=str(screenshots / "api.png"))
    assert log.errors == [] and _bad_responses(log) == []


class TileServer:
    """A stand-in for a raster tile server (OpenStreetMap's or a deployment's own), on 127.0.0.1."""

    def __init__(self) -> None:
        import io
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (256, 256), (200, 220, 240)).save(buffer, "PNG")
        tile = buffer.getvalue()
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def tile_server(site_stack: LocalStack) -> Iterator[TileServer]:
    """The fake tile server, configured as the map's base layer in the site's config.json for one
    test (the local static server's CSP follows config.json, as CloudFront's follows the context)."""
    import time

    import httpx
    from openloc.website import Basemap, site_config

    server = TileServer()
    s3, bucket = client("s3"), site_stack.settings.assets_bucket

    def publish(basemap: Basemap | None) -> None:
        s3.put_object(
            Bucket=bucket, Key="config.json", Body=site_config(basemap), ContentType="application/json"
        )
        wanted = basemap.origin if basemap else None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the static server re-reads config.json within a second
            policy = httpx.get(site_stack.url + "/").headers["content-security-policy"]
            if (wanted in policy) if wanted else ("127.0.0.1" not in policy):
                return
            time.sleep(0.2)
        pytest.fail("the site's CSP did not follow config.json")

    publish(Basemap(server.origin + "/{z}/{x}/{y}.png", "© Test tiles", "https://example.org/tiles", 18))
    try:
        yield server
    finally:
        publish(None)
        server.stop()


def test_map_with_a_configured_base_layer(
    page: tuple[Any, PageLog], site_stack: LocalStack, tile_server: TileServer, screenshots: Path
) -> None:
    """A deployment's raster base layer: its tiles load (the CSP allows exactly that host), its
    attribution shows, the coverage tiles are drawn over it, and nothing else leaves the site."""
    tab, log = page
    open_map(tab, "raster")
    loaded = tab.eval_on_selector_all(
        ".leaflet-basemap-pane img.leaflet-tile-loaded",
        "tiles => tiles.filter(t => t.naturalWidth === 256).length",
    )
    assert loaded > 0 and len(tile_server.paths) >= loaded
    assert all(path.endswith(".png") and path.count("/") == 3 for path in tile_server.paths)
    link = tab.locator(".leaflet-control-attribution a", has_text="© Test tiles")
    assert link.get_attribute("href") == "https://example.org/tiles"
    assert _outside(log, site_stack.url) == {tile_server.origin.removeprefix("http://")}
    tab.screenshot(path=str(screenshots / "map-basemap.png"))
    assert log.errors == [] and _bad_responses(log) == []
