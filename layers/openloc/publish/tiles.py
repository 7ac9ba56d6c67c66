"""Coverage-map tiles from the `datamap` grid: Web Mercator math and rendering (pure numpy + Pillow).

A tile is 256 × 256 px in the usual XYZ scheme (`tiles/{z}/{x}/{y}.png`, y = 0 at the north).
Grid cells are 0.001° squares centred on `(lat_i / 1000, lon_i / 1000)` (`openloc.geo.datamap`).

Two ways to rasterise, chosen by zoom:

- **coarse zooms** (a pixel is wider than a grid cell, z ≤ 10): every cell marks the pixel that
  holds its centre, then the mark grows by `dot_radius(z)` pixels so a lone street stays visible
  from far out. Done for all cells of a zoom at once in global pixel space, so a dot that crosses a
  tile edge is drawn on both tiles.
- **fine zooms** (a pixel is no wider than a cell, z ≥ 11): each pixel centre is mapped back to its
  grid cell and looked up in the sorted cell codes (`numpy.searchsorted`), which draws every cell
  as its exact Mercator rectangle.

A tile with no coverage is never written: absent = no coverage (see docs/coverage-map.md).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

TILE_SIZE = 256
MIN_ZOOM = 0
MAX_ZOOM = 13
MAX_LAT = 85.0511287798066  # Web Mercator's latitude limit (square world)
SCALE = 1000  # grid cells per degree (openloc.geo.datamap.SCALE)
HALF_CELL = 0.5 / SCALE
# Encoding of a grid cell as one int64: (lat_i + 90 000) × 360 001 + (lon_i + 180 000).
LAT_OFFSET = 90 * SCALE
LON_OFFSET = 180 * SCALE
LON_SPAN = 360 * SCALE + 1
# Coverage colour (RGB) and its opacity (0–255) in the PNG palette.
COLOUR = (0, 96, 192)
OPACITY = 190

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


def world_pixels(zoom: int) -> int:
    """Width (= height) of the world in pixels at a zoom."""
    return TILE_SIZE << zoom


def lon_to_x(lon: npt.ArrayLike, zoom: int) -> FloatArray:
    """Global pixel x of a longitude (0 at 180° W, `world_pixels(zoom)` at 180° E)."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0 * world_pixels(zoom)


def lat_to_y(lat: npt.ArrayLike, zoom: int) -> FloatArray:
    """Global pixel y of a latitude (0 at the top, MAX_LAT N); latitudes are clamped to ±MAX_LAT."""
    phi = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT))
    return (1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / math.pi) / 2.0 * world_pixels(zoom)


def x_to_lon(x: npt.ArrayLike, zoom: int) -> FloatArray:
    return np.asarray(x, dtype=np.float64) / world_pixels(zoom) * 360.0 - 180.0


def y_to_lat(y: npt.ArrayLike, zoom: int) -> FloatArray:
    n = math.pi * (1.0 - 2.0 * np.asarray(y, dtype=np.float64) / world_pixels(zoom))
    return np.degrees(np.arctan(np.sinh(n)))


def tile_for(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """The (x, y) of the tile holding a position (the east/south edges belong to the next tile)."""
    last = (1 << zoom) - 1
    x = int(np.floor(lon_to_x(lon, zoom) / TILE_SIZE))
    y = int(np.floor(lat_to_y(lat, zoom) / TILE_SIZE))
    return min(max(x, 0), last), min(max(y, 0), last)


def tile_bounds(zoom: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of a tile."""
    west = float(x_to_lon(x * TILE_SIZE, zoom))
    east = float(x_to_lon((x + 1) * TILE_SIZE, zoom))
    north = float(y_to_lat(y * TILE_SIZE, zoom))
    south = float(y_to_lat((y + 1) * TILE_SIZE, zoom))
    return west, south, east, north


def fine_zoom(zoom: int) -> bool:
    """True when a pixel is no wider than a grid cell, so pixel centres sample every cell."""
    return 360.0 / world_pixels(zoom) <= 1.0 / SCALE


def dot_radius(zoom: int) -> int:
    """Extra pixels around a cell's pixel at coarse zooms (a 3 × 3 dot up to z 9, one pixel at z 10)."""
    return 0 if fine_zoom(zoom) or zoom >= 10 else 1


# -- grid cells -------------------------------------------------------------------------------


def parse_grid(grid: str) -> tuple[int, int]:
    """`"<lat*1000>,<lon*1000>"` (the datamap sort key) → (lat_i, lon_i)."""
    lat, _, lon = grid.partition(",")
    return int(lat), int(lon)


def encode_cells(lat_i: npt.ArrayLike, lon_i: npt.ArrayLike) -> IntArray:
    codes: IntArray = (np.asarray(lat_i, np.int64) + LAT_OFFSET) * LON_SPAN + (
        np.asarray(lon_i, np.int64) + LON_OFFSET
    )
    return codes


def decode_cells(codes: IntArray) -> tuple[IntArray, IntArray]:
    lat, lon = np.divmod(np.asarray(codes, np.int64), LON_SPAN)
    return lat - LAT_OFFSET, lon - LON_OFFSET


@dataclass(frozen=True)
class CoverageGrid:
    """A set of grid cells as sorted, unique int64 codes."""

    codes: IntArray

    @classmethod
    def from_cells(cls, cells: Iterable[tuple[int, int]]) -> CoverageGrid:
        pairs = np.array(list(cells), dtype=np.int64).reshape(-1, 2)
        return cls(np.unique(encode_cells(pairs[:, 0], pairs[:, 1])))

    @classmethod
    def from_grids(cls, grids: Iterable[str]) -> CoverageGrid:
        return cls.from_cells(parse_grid(g) for g in grids)

    @classmethod
    def from_codes(cls, codes: IntArray) -> CoverageGrid:
        return cls(np.unique(np.asarray(codes, np.int64)))

    def __len__(self) -> int:
        return int(self.codes.size)

    def cells(self) -> tuple[IntArray, IntArray]:
        return decode_cells(self.codes)

    def changed(self, previous: CoverageGrid) -> CoverageGrid:
        """Cells added or removed since `previous` (what can change the picture)."""
        return CoverageGrid(np.setxor1d(self.codes, previous.codes, assume_unique=True))

    def contains(self, codes: IntArray) -> Mask:
        return _contains(self.codes, codes)

    def lat_range(self, low: int, high: int) -> IntArray:
        """The codes of cells with low ≤ lat_i ≤ high (contiguous: codes sort by latitude first)."""
        start = int(np.searchsorted(self.codes, encode_cells(low, -LON_OFFSET), side="left"))
        end = int(np.searchsorted(self.codes, encode_cells(high, LON_OFFSET), side="right"))
        return self.codes[start:end]

    @cached_property
    def centre_pixels(self) -> dict[int, tuple[IntArray, IntArray]]:
        """Unique global pixels holding a cell centre, for every coarse zoom.

        Computed once at the finest coarse zoom and halved for the ones below: pixel coordinates
        of a zoom are exactly twice those of the zoom above (a power-of-two scale is exact in
        floating point), so `floor(x / 2)` is the pixel one zoom out."""
        zoom = max(z for z in range(MAX_ZOOM + 1) if not fine_zoom(z))
        lat_i, lon_i = self.cells()
        size = world_pixels(zoom)
        gx = np.floor(lon_to_x(lon_i / SCALE, zoom)).astype(np.int64).clip(0, size - 1)
        gy = np.floor(lat_to_y(lat_i / SCALE, zoom)).astype(np.int64).clip(0, size - 1)
        pixels: dict[int, tuple[IntArray, IntArray]] = {}
        while zoom >= 0:
            size = world_pixels(zoom)
            gx, gy = np.divmod(np.unique(gx * size + gy), size)
            pixels[zoom] = (gx, gy)
            gx, gy, zoom = gx >> 1, gy >> 1, zoom - 1
        return pixels


def _contains(sorted_codes: IntArray, codes: IntArray) -> Mask:
    if sorted_codes.size == 0:
        return np.zeros(np.shape(codes), dtype=np.bool_)
    index = np.searchsorted(sorted_codes, codes).clip(0, sorted_codes.size - 1)
    found: Mask = sorted_codes[index] == codes
    return found


# -- which tiles a set of cells touches ---------------------------------------------------------


def _tile_codes(tx: IntArray, ty: IntArray, zoom: int) -> IntArray:
    return np.asarray(tx, np.int64) * (1 << zoom) + np.asarray(ty, np.int64)


def _coarse_pixels(grid: CoverageGrid, zoom: int) -> tuple[IntArray, IntArray]:
    """Unique global (x, y) pixels drawn at a coarse zoom, dots included."""
    gx, gy = grid.centre_pixels[zoom]
    return dotted_pixels(gx, gy, zoom)


def halve_pixels(gx: IntArray, gy: IntArray, zoom: int) -> tuple[IntArray, IntArray]:
    """The unique centre pixels one zoom out (zoom − 1) of centre pixels at `zoom`."""
    size = world_pixels(zoom - 1)
    x, y = np.divmod(np.unique((gx >> 1) * size + (gy >> 1)), size)
    return x, y


def dotted_pixels(gx: IntArray, gy: IntArray, zoom: int) -> tuple[IntArray, IntArray]:
    """Unique global (x, y) pixels drawn at a coarse zoom from its centre pixels, dots included."""
    radius = dot_radius(zoom)
    if not radius:
        return gx, gy
    size = world_pixels(zoom)
    steps = np.arange(-radius, radius + 1, dtype=np.int64)
    dx, dy = (d.ravel() for d in np.meshgrid(steps, steps))
    gx = ((gx[:, None] + dx[None, :]) % size).ravel()  # wraps across 180°
    gy = (gy[:, None] + dy[None, :]).clip(0, size - 1).ravel()
    x, y = np.divmod(np.unique(gx * size + gy), size)
    return x, y


def tiles_touched(grid: CoverageGrid, zoom: int) -> set[tuple[int, int]]:
    """Every tile at `zoom` whose picture depends on at least one cell of `grid`."""
    if len(grid) == 0:
        return set()
    if not fine_zoom(zoom):
        x, y = _coarse_pixels(grid, zoom)
        codes = np.unique(_tile_codes(x // TILE_SIZE, y // TILE_SIZE, zoom))
    else:
        lat_i, lon_i = grid.cells()
        last = (1 << zoom) - 1
        found: list[IntArray] = []
        for dlat in (-HALF_CELL, HALF_CELL):
            for dlon in (-HALF_CELL, HALF_CELL):
                tx = np.floor(lon_to_x(lon_i / SCALE + dlon, zoom) / TILE_SIZE).astype(np.int64).clip(0, last)
                ty = np.floor(lat_to_y(lat_i / SCALE + dlat, zoom) / TILE_SIZE).astype(np.int64).clip(0, last)
                found.append(_tile_codes(tx, ty, zoom))
        codes = np.unique(np.concatenate(found))
    tx, ty = np.divmod(codes, 1 << zoom)
    return set(zip(tx.tolist(), ty.tolist(), strict=True))


# -- rendering ---------------------------------------------------------------------------------


def render_fine_tile(grid: CoverageGrid, zoom: int, x: int, y: int) -> Mask:
    """Coverage mask (rows = y from the north) of one tile at a fine zoom."""
    centres = np.arange(TILE_SIZE, dtype=np.float64) + 0.5
    lon_i = np.rint(x_to_lon(x * TILE_SIZE + centres, zoom) * SCALE).astype(np.int64)
    lat_i = np.rint(y_to_lat(y * TILE_SIZE + centres, zoom) * SCALE).astype(np.int64)
    codes = encode_cells(lat_i[:, None], lon_i[None, :])
    return _contains(grid.lat_range(int(lat_i.min()), int(lat_i.max())), codes)


def render_tiles(
    grid: CoverageGrid, zoom: int, wanted: Iterable[tuple[int, int]] | None = None
) -> Iterator[tuple[tuple[int, int], Mask]]:
    """(tile, mask) for every tile of `wanted` (default: all tiles the grid touches) at `zoom`.

    Tiles that render empty are yielded too (all False), so a caller can delete their old image.
    """
    tiles = tiles_touched(grid, zoom) if wanted is None else set(wanted)
    if not tiles:
        return
    if fine_zoom(zoom):
        for tile in sorted(tiles):
            yield tile, render_fine_tile(grid, zoom, *tile)
        return
    if len(grid):
        yield from render_coarse(*_coarse_pixels(grid, zoom), zoom, tiles)
    else:
        yield from ((tile, np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.bool_)) for tile in sorted(tiles))


def render_coarse(
    gx: IntArray, gy: IntArray, zoom: int, tiles: Iterable[tuple[int, int]]
) -> Iterator[tuple[tuple[int, int], Mask]]:
    """(tile, mask) of each of `tiles` at a coarse zoom from the pixels drawn (dots included)."""
    masks = {tile: np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.bool_) for tile in tiles}
    if gx.size:
        tx, ty = gx // TILE_SIZE, gy // TILE_SIZE
        order = np.lexsort((ty, tx))
        gx, gy, tx, ty = gx[order], gy[order], tx[order], ty[order]
        keys = _tile_codes(tx, ty, zoom)
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], keys.size]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            mask = masks.get((int(tx[start]), int(ty[start])))
            if mask is not None:
                mask[gy[start:end] % TILE_SIZE, gx[start:end] % TILE_SIZE] = True
    yield from sorted(masks.items())


def encode_png(mask: Mask) -> bytes:
    """A 1-bit palette PNG: index 0 transparent, index 1 the coverage colour at OPACITY."""
    from PIL import Image  # deferred: only the tiles job renders

    image = Image.frombytes(
        "P", (mask.shape[1], mask.shape[0]), np.ascontiguousarray(mask, np.uint8).tobytes()
    )
    image.putpalette([255, 255, 255, *COLOUR])
    out = io.BytesIO()
    image.save(out, format="PNG", bits=1, transparency=bytes([0, OPACITY]))
    return out.getvalue()


def pyramid_bounds(grid: CoverageGrid) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of the grid's cells (the whole world when empty)."""
    if len(grid) == 0:
        return -180.0, -MAX_LAT, 180.0, MAX_LAT
    lat_i, lon_i = grid.cells()
    return (
        float(lon_i.min() / SCALE - HALF_CELL),
        float(max(lat_i.min() / SCALE - HALF_CELL, -MAX_LAT)),
        float(lon_i.max() / SCALE + HALF_CELL),
        float(min(lat_i.max() / SCALE + HALF_CELL, MAX_LAT)),
    )
