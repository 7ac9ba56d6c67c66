"""The `tiles` job: render the coverage map from the datamap grid into the assets bucket.

Outputs (see docs/coverage-map.md):
- `tiles/{z}/{x}/{y}.png` for z 0–13, one 1-bit palette PNG per tile with coverage;
- `tiles/coverage.pmtiles`: the same tiles in one PMTiles v3 archive (single-file hosting; the
  website's map reads it with HTTP range requests).

Only changed tiles are rendered. The set of grid cells drawn by the last run is kept as a sorted
int64 array (`.npy`) in the private state store (`STATE_KEY` in the archive bucket). A run compares
the current cells with it; cells added or removed mark the tiles they touch at every zoom as dirty,
and only those are rendered, uploaded (or deleted when they became empty) and replaced in the
archive, whose other tiles are copied over from the previous archive. Without a state or a previous
archive the run is a full render, which also deletes PNG tiles that no cell touches any more.
The state is written last, so a run that fails half-way is simply repeated by the next one.
"""

from __future__ import annotations

import heapq
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from openloc.publish.tiles import MAX_ZOOM, MIN_ZOOM, CoverageGrid, encode_png, pyramid_bounds, render_tiles
from openloc.publish.tiles import tiles_touched as touched
from openloc.store.objects import ObjectStore

TILES_PREFIX = "tiles/"
PMTILES_KEY = "tiles/coverage.pmtiles"
STATE_KEY = "state/tiles/grid-cells.npy"
PNG_TYPE = "image/png"
# No IANA type exists for PMTiles; this is the one its authors suggest. Range requests do not care.
PMTILES_TYPE = "application/vnd.pmtiles"
# Tiles change at most hourly (the job's schedule): an hour of CDN and browser caching.
TILE_CACHE = "public, max-age=3600"
TileKey = tuple[int, int, int]  # z, x, y


def tile_key(z: int, x: int, y: int) -> str:
    return f"{TILES_PREFIX}{z}/{x}/{y}.png"


@dataclass(frozen=True)
class TileRunResult:
    cells: int
    changed_cells: int
    full: bool
    rendered: int  # tiles rendered (dirty)
    written: int  # PNG objects uploaded
    deleted: int  # PNG deletions requested (tiles that became empty, or stale in a full render)
    archive_tiles: int  # tiles in the new PMTiles archive
    archive_bytes: int


def encode_state(grid: CoverageGrid) -> bytes:
    out = io.BytesIO()
    np.save(out, grid.codes, allow_pickle=False)
    return out.getvalue()


def decode_state(blob: bytes) -> CoverageGrid:
    return CoverageGrid.from_codes(np.load(io.BytesIO(blob), allow_pickle=False))


def archive_tiles(archive: bytes) -> Iterator[tuple[int, bytes]]:
    """(tile id, PNG) of a PMTiles archive, in tile-id order."""
    from pmtiles import reader
    from pmtiles.tile import zxy_to_tileid

    pmtiles_reader: Any = reader  # the package's reader functions are untyped
    for (z, x, y), data in pmtiles_reader.all_tiles(pmtiles_reader.MemorySource(archive)):
        yield zxy_to_tileid(z, x, y), bytes(data)


def archive_header(grid: CoverageGrid, now: datetime) -> tuple[dict[str, Any], dict[str, str]]:
    """The PMTiles header fields (bounds and centre of `grid`) and metadata of the archive."""
    from pmtiles.tile import Compression, TileType

    west, south, east, north = pyramid_bounds(grid)
    header = {
        "tile_type": TileType.PNG,
        "tile_compression": Compression.NONE,
        "min_lon_e7": round(west * 1e7),
        "min_lat_e7": round(south * 1e7),
        "max_lon_e7": round(east * 1e7),
        "max_lat_e7": round(north * 1e7),
        "center_zoom": 11 if len(grid) else 0,
        "center_lon_e7": round((west + east) / 2 * 1e7),
        "center_lat_e7": round((south + north) / 2 * 1e7),
    }
    metadata = {
        "name": "OpenLoc coverage",
        "description": "Where OpenLoc has observations: 0.001° grid cells seen by contributors.",
        "attribution": "OpenLoc contributors",
        "type": "overlay",
        "format": "png",
        "version": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return header, metadata


def write_archive(tiles: Iterable[tuple[int, bytes]], grid: CoverageGrid, now: datetime) -> bytes:
    """A PMTiles v3 archive of PNG tiles given in ascending tile-id order (identical tiles stored once)."""
    from pmtiles import writer as pmtiles_writer

    out = io.BytesIO()
    untyped: Any = pmtiles_writer  # the package's Writer is untyped
    writer = untyped.Writer(out)
    count = 0
    for tile_id, data in tiles:
        writer.write_tile(tile_id, data)
        count += 1
    if count == 0:  # PMTiles needs at least one entry: an empty z0 tile keeps the format valid
        from openloc.publish.tiles import TILE_SIZE

        writer.write_tile(0, encode_png(np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.bool_)))
    header, metadata = archive_header(grid, now)
    writer.finalize(header, metadata)
    return out.getvalue()


def _merge(old: Iterator[tuple[int, bytes]], new: dict[int, bytes | None]) -> Iterator[tuple[int, bytes]]:
    """Old archive tiles, replaced (or dropped, when None) by the re-rendered ones, in tile-id order."""
    fresh = ((tile_id, data) for tile_id, data in sorted(new.items()))
    kept = ((tile_id, data) for tile_id, data in old if tile_id not in new)
    for tile_id, data in heapq.merge(kept, fresh, key=lambda item: item[0]):
        if data is not None:
            yield tile_id, data


def render_changed(
    grid: CoverageGrid,
    changed: CoverageGrid,
    assets: ObjectStore,
    zooms: Iterable[int],
    keep: Callable[[set[tuple[int, int]], int], Iterable[tuple[int, int]]] = lambda tiles, zoom: tiles,
) -> tuple[dict[int, bytes | None], list[str], set[str]]:
    """Re-render, from `grid`, the tiles a `changed` cell touches at each of `zooms` (those `keep`
    returns of them): uploads the non-empty ones; (tile id → PNG, or None when it became empty;
    PNG keys to delete; PNG keys written)."""
    from pmtiles.tile import zxy_to_tileid

    fresh: dict[int, bytes | None] = {}
    empty_keys: list[str] = []
    written_keys: set[str] = set()
    if not len(changed):
        return fresh, empty_keys, written_keys
    for z in zooms:
        for (x, y), mask in render_tiles(grid, z, keep(touched(changed, z), z)):
            key = tile_key(z, x, y)
            if mask.any():
                png = encode_png(mask)
                assets.put(key, png, PNG_TYPE, TILE_CACHE)
                written_keys.add(key)
                fresh[zxy_to_tileid(z, x, y)] = png
            else:
                empty_keys.append(key)
                fresh[zxy_to_tileid(z, x, y)] = None
    return fresh, empty_keys, written_keys


def run_tiles(
    grid: CoverageGrid,
    assets: ObjectStore,
    state: ObjectStore,
    now: datetime,
    zooms: range = range(MIN_ZOOM, MAX_ZOOM + 1),
) -> TileRunResult:
    """Render what changed since the last run (everything on the first run); see the module doc."""
    state_blob = state.get(STATE_KEY)
    previous_archive = assets.get(PMTILES_KEY) if state_blob is not None else None
    full = state_blob is None or previous_archive is None
    changed = grid if full else grid.changed(decode_state(state_blob or b""))
    new_tiles, empty_keys, written_keys = render_changed(grid, changed, assets, zooms)
    if full:
        empty_keys += [k for k in assets.keys(TILES_PREFIX) if k.endswith(".png") and k not in written_keys]
    deleted = assets.delete(empty_keys) if empty_keys else 0
    old = archive_tiles(previous_archive) if previous_archive is not None else iter(())
    counted: list[int] = [0]

    def counting(tiles: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
        for item in tiles:
            counted[0] += 1
            yield item

    archive = write_archive(counting(_merge(old, new_tiles)), grid, now)
    assets.put(PMTILES_KEY, archive, PMTILES_TYPE, TILE_CACHE)
    state.put(STATE_KEY, encode_state(grid), "application/octet-stream", "no-store")
    return TileRunResult(
        cells=len(grid),
        changed_cells=len(changed),
        full=full,
        rendered=len(new_tiles),
        written=len(written_keys),
        deleted=deleted,
        archive_tiles=counted[0],
        archive_bytes=len(archive),
    )
