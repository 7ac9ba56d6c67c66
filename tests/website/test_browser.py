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


@pytest.fixture
def page(browser: Any, site_stack: LocalStack) -> Iterator[tuple[Any, PageLog]]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=site_stack.url)
    page = context.new_page()
    log = PageLog()
    page.on("console", lambda message: log.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: log.errors.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: log.errors.append(f"request failed: {request.url}"))
    page.on("response", lambda response: log.responses.append((response.url, response.status)))
    try:
        yield page, log
    finally:
        context.close()


def _bad_responses(log: PageLog) -> list[tuple[str, int]]:
    return [(url, status) for url, status in log.responses if status >= 400]


def test_map_shows_coverage_tiles(
    page: tuple[Any, PageLog], site_stack: LocalStack, screenshots: Path
) -> None:
    tab, log = page
    tab.goto("/")
    tab.wait_for_selector("body[data-map-ready='1'][data-basemap-ready='1']")
    tab.wait_for_function("document.querySelectorAll('img.coverage-tile').length > 0")
    tab.wait_for_load_state("networkidle")
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
