"""Incremental publication of the coverage tiles (PNG files and the PMTiles archive)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from openloc.publish.tile_set import (
    PMTILES_KEY,
    PMTILES_TYPE,
    STATE_KEY,
    TILE_CACHE,
    archive_tiles,
    run_tiles,
    tile_key,
)
from openloc.publish.tiles import (
    CoverageGrid,
    tile_for,
)
from openloc.store.objects import MemoryObjectStore
from pmtiles.tile import zxy_to_tileid

from tests.unit.publish.support import near_cells

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _published(store: MemoryObjectStore) -> dict[str, bytes]:
    return {k: v.body for k, v in store.objects.items() if k.endswith(".png")}


def _archive(store: MemoryObjectStore) -> dict[int, bytes]:
    return dict(archive_tiles(store.objects[PMTILES_KEY].body))


def test_first_run_renders_everything_with_headers() -> None:
    assets, state = MemoryObjectStore(), MemoryObjectStore()
    grid = CoverageGrid.from_cells([(52_522, 13_413), (52_523, 13_413)])
    result = run_tiles(grid, assets, state, NOW)
    assert result.full and result.cells == 2
    assert result.written == result.archive_tiles == len(_published(assets)) >= 14  # ≥ one per zoom
    x, y = tile_for(52.522, 13.413, 13)
    png = assets.objects[tile_key(13, x, y)]
    assert (png.content_type, png.cache_control) == ("image/png", TILE_CACHE)
    assert assets.objects[PMTILES_KEY].content_type == PMTILES_TYPE
    assert _archive(assets)[zxy_to_tileid(13, x, y)] == png.body
    assert STATE_KEY in state.objects and STATE_KEY not in assets.objects


def test_unchanged_grid_renders_nothing() -> None:
    assets, state = MemoryObjectStore(), MemoryObjectStore()
    grid = CoverageGrid.from_cells([(52_522, 13_413)])
    run_tiles(grid, assets, state, NOW)
    puts = assets.puts
    again = run_tiles(grid, assets, state, NOW)
    assert not again.full and again.changed_cells == 0 and again.rendered == 0
    assert assets.puts == puts + 1  # only the archive is rewritten


@settings(max_examples=12)
@given(near_cells, near_cells)
def test_incremental_run_equals_full_render(
    before: list[tuple[int, int]], after: list[tuple[int, int]]
) -> None:
    """Rendering only what changed gives exactly the tiles and archive a full render would give."""
    assets, state = MemoryObjectStore(), MemoryObjectStore()
    run_tiles(CoverageGrid.from_cells(before), assets, state, NOW)
    update = run_tiles(CoverageGrid.from_cells(after), assets, state, NOW)
    assert not update.full
    fresh_assets = MemoryObjectStore()
    run_tiles(CoverageGrid.from_cells(after), fresh_assets, MemoryObjectStore(), NOW)
    assert _published(assets) == _published(fresh_assets)
    assert _archive(assets) == _archive(fresh_assets)


def test_full_render_removes_stale_tiles() -> None:
    assets, state = MemoryObjectStore(), MemoryObjectStore()
    assets.put("tiles/13/1/1.png", b"old", "image/png", TILE_CACHE)
    result = run_tiles(CoverageGrid.from_cells([(1, 1)]), assets, state, NOW)
    assert result.deleted == 1 and "tiles/13/1/1.png" not in assets.objects


def test_empty_grid_still_writes_a_valid_archive() -> None:
    assets, state = MemoryObjectStore(), MemoryObjectStore()
    result = run_tiles(CoverageGrid.from_cells([]), assets, state, NOW)
    assert result.written == 0 and _published(assets) == {}
    assert len(_archive(assets)) == 1  # one empty z0 tile
