"""Coverage tiles: Web Mercator math, rasterising grid cells, PNG encoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openloc.geo.datamap import grid_cell
from openloc.publish.tiles import (
    MAX_LAT,
    SCALE,
    TILE_SIZE,
    CoverageGrid,
    decode_cells,
    encode_cells,
    encode_png,
    fine_zoom,
    lat_to_y,
    lon_to_x,
    parse_grid,
    render_fine_tile,
    render_tiles,
    tile_bounds,
    tile_for,
    tiles_touched,
    x_to_lon,
    y_to_lat,
)
from PIL import Image

from tests.unit.publish.support import near_cells

zooms = st.integers(0, 13)


lats = st.floats(-MAX_LAT, MAX_LAT, allow_nan=False)


lons = st.floats(-180.0, 180.0, allow_nan=False)


@given(lons, zooms)
def test_lon_x_round_trip(lon: float, zoom: int) -> None:
    assert float(x_to_lon(lon_to_x(lon, zoom), zoom)) == pytest.approx(lon, abs=1e-9)


@given(lats, zooms)
def test_lat_y_round_trip(lat: float, zoom: int) -> None:
    assert float(y_to_lat(lat_to_y(lat, zoom), zoom)) == pytest.approx(lat, abs=1e-9)


@given(lats, lats, zooms)
def test_y_grows_southwards(a: float, b: float, zoom: int) -> None:
    if a > b:
        assert float(lat_to_y(a, zoom)) <= float(lat_to_y(b, zoom))


def test_mercator_reference_points() -> None:
    assert float(lon_to_x(-180, 0)) == 0
    assert float(lon_to_x(0, 1)) == TILE_SIZE
    assert float(lat_to_y(0, 3)) == pytest.approx(4 * TILE_SIZE)
    assert float(lat_to_y(MAX_LAT, 5)) == pytest.approx(0, abs=1e-6)
    assert float(lat_to_y(-89.9, 2)) == pytest.approx(4 * TILE_SIZE)  # clamped to the square world
    assert tile_for(52.5219, 13.4132, 13) == (4401, 2686)  # Berlin Alexanderplatz (OSM's tile)


@given(lats, lons, zooms)
def test_position_lies_in_its_tile(lat: float, lon: float, zoom: int) -> None:
    x, y = tile_for(lat, lon, zoom)
    assert 0 <= x < 2**zoom and 0 <= y < 2**zoom
    west, south, east, north = tile_bounds(zoom, x, y)
    assert west - 1e-9 <= lon <= east + 1e-9
    assert south - 1e-9 <= lat <= north + 1e-9


@given(st.lists(st.tuples(st.integers(-90_000, 90_000), st.integers(-180_000, 180_000)), max_size=50))
def test_cell_codes_round_trip_and_keep_order(cells: list[tuple[int, int]]) -> None:
    lat = np.array([c[0] for c in cells], dtype=np.int64)
    lon = np.array([c[1] for c in cells], dtype=np.int64)
    codes = encode_cells(lat, lon).tolist()
    back_lat, back_lon = decode_cells(np.array(codes, dtype=np.int64))
    assert back_lat.tolist() == lat.tolist() and back_lon.tolist() == lon.tolist()
    for i, a in enumerate(cells):
        for j, b in enumerate(cells):
            assert (codes[i] < codes[j]) == (a < b)


def test_grid_from_datamap_keys() -> None:
    shard, grid = grid_cell(52.5219, 13.4132)
    assert shard == "ne"
    assert parse_grid(grid) == (52522, 13413)
    coverage = CoverageGrid.from_grids([grid, grid, "-1,-2"])
    assert len(coverage) == 2
    assert coverage.contains(encode_cells(np.array([52522, 0]), np.array([13413, 0]))).tolist() == [
        True,
        False,
    ]


@settings(max_examples=30)
@given(st.integers(-85_000, 85_000), st.integers(-179_999, 179_999), st.integers(11, 13))
def test_fine_zoom_draws_exactly_the_cell(lat_i: int, lon_i: int, zoom: int) -> None:
    """Every drawn pixel's centre lies in the cell, and the pixel under the cell's centre is drawn."""
    assert fine_zoom(zoom)
    grid = CoverageGrid.from_cells([(lat_i, lon_i)])
    x, y = tile_for(lat_i / SCALE, lon_i / SCALE, zoom)
    mask = render_fine_tile(grid, zoom, x, y)
    rows, cols = np.nonzero(mask)
    assert rows.size > 0
    lon_centres = x_to_lon(x * TILE_SIZE + cols + 0.5, zoom)
    lat_centres = y_to_lat(y * TILE_SIZE + rows + 0.5, zoom)
    assert np.all(np.abs(lon_centres - lon_i / SCALE) <= 0.5 / SCALE + 1e-12)
    assert np.all(np.abs(lat_centres - lat_i / SCALE) <= 0.5 / SCALE + 1e-12)
    assert (x, y) in tiles_touched(grid, zoom)


@settings(max_examples=30)
@given(st.integers(-85_000, 85_000), st.integers(-180_000, 180_000), st.integers(0, 10))
def test_coarse_zoom_draws_a_dot_at_the_cell(lat_i: int, lon_i: int, zoom: int) -> None:
    assert not fine_zoom(zoom)
    grid = CoverageGrid.from_cells([(lat_i, lon_i)])
    drawn = {tile: mask for tile, mask in render_tiles(grid, zoom) if mask.any()}
    tile = tile_for(lat_i / SCALE, lon_i / SCALE, zoom)
    assert tile in drawn
    last = TILE_SIZE * 2**zoom - 1  # 180° E and the southern limit belong to the last pixel
    px = min(int(np.floor(lon_to_x(lon_i / SCALE, zoom))), last) % TILE_SIZE
    py = min(int(np.floor(lat_to_y(lat_i / SCALE, zoom))), last) % TILE_SIZE
    assert drawn[tile][py, px]
    assert set(drawn) <= tiles_touched(grid, zoom)


def test_dot_wraps_across_the_antimeridian() -> None:
    grid = CoverageGrid.from_cells([(0, 180_000)])  # right on 180°: pixel 0 of the world
    drawn = {tile for tile, mask in render_tiles(grid, 2) if mask.any()}
    assert drawn == {(0, 1), (0, 2), (3, 1), (3, 2)}


@settings(max_examples=20)
@given(near_cells, zooms)
def test_untouched_tiles_stay_empty(cells: list[tuple[int, int]], zoom: int) -> None:
    grid = CoverageGrid.from_cells(cells)
    touched = tiles_touched(grid, zoom)
    neighbours = {(x + dx, y + dy) for x, y in touched for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    neighbours = {(x, y) for x, y in neighbours if 0 <= x < 2**zoom and 0 <= y < 2**zoom} - touched
    for _, mask in render_tiles(grid, zoom, neighbours):
        assert not mask.any()


def test_encode_png_is_a_transparent_palette_image() -> None:
    mask = np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.bool_)
    mask[10:20, 30:40] = True
    image = Image.open(io.BytesIO(encode_png(mask)))
    assert image.size == (TILE_SIZE, TILE_SIZE) and image.mode in ("P", "1")
    rgba = np.asarray(image.convert("RGBA"))
    assert (rgba[..., 3] > 0).tolist() == mask.tolist()
