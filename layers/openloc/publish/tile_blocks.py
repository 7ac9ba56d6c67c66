"""The coverage tiles rendered in blocks: the sharded form of `publish.tile_set`.

The pyramid is cut into **blocks**: the z 6 tiles (`BLOCK_ZOOM`). A block owns its z 6 tile and
every tile below it down to z 13; the z 0–5 tiles (1 365 at most) are drawn by the finish step.

- **grid** shards (parallel Scan segments of the datamap table) route each grid cell to every
  block whose tiles it can draw on: its own and, within `MARGIN` z 6 pixels, its neighbours'
  (a 3 × 3 px dot at z ≤ 9 or a cell's rectangle at the edge of a tile crosses into the next
  tile; the margin wraps across 180°). Each shard writes its cells sorted by block, with an index.
- **render** shards take whole blocks. A block compares its cells (own and margin) with the
  cells it drew last time (`state/tiles/blocks/<x>-<y>.npy`), re-renders exactly the tiles a
  changed cell touches (`tiles_touched`, the same rule as the single run), uploads or deletes
  their PNGs, and rewrites its **block archive**: the block's PNGs concatenated in tile-id order
  (identical tiles stored once) with a directory (tile id, offset, length). A block with no
  change keeps its archive untouched. The block's centre pixels at z 5 go to the finish.
- **finish** draws z 0–5 from the union of the blocks' z 5 pixels (halved zoom by zoom, as the
  single run derives them), uploads the coarse tiles whose bytes changed, then writes
  `tiles/coverage.pmtiles` by **tile range**: the directory is the blocks' directories shifted
  to where each block archive lands in the tile data, and the tile data is the coarse tiles and
  the block archives copied inside S3 (`ObjectStore.compose`, UploadPartCopy). No process holds
  the previous archive: a run reads only the block archives of the blocks that changed.

The result is the single run's, tile for tile (the same PNG bytes, the same tiles in the
archive): a tile's picture depends only on the cells near it, and every cell near a block's
tiles is in that block's input.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from openloc.publish.tile_set import (
    PMTILES_KEY,
    PMTILES_TYPE,
    PNG_TYPE,
    TILE_CACHE,
    TILES_PREFIX,
    render_changed,
    tile_key,
)
from openloc.publish.tiles import (
    MAX_ZOOM,
    SCALE,
    TILE_SIZE,
    CoverageGrid,
    decode_cells,
    dotted_pixels,
    encode_png,
    halve_pixels,
    lat_to_y,
    lon_to_x,
    render_coarse,
    world_pixels,
)
from openloc.store.objects import ObjectStore, Piece

BLOCK_ZOOM = 6
MARGIN = 2  # z 6 pixels: covers a dot (1 px at z ≤ 9) and a cell's half width at any zoom ≥ 6
STATE_PREFIX = "state/tiles/blocks/"
BLOCKS_KEY = "state/tiles/blocks.json"
COARSE_KEY = "state/tiles/coarse"
PRIVATE = "no-store"
IntArray = npt.NDArray[np.int64]
Block = tuple[int, int]


def save_array(array: npt.NDArray[Any]) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def load_array(blob: bytes) -> npt.NDArray[Any]:
    loaded: npt.NDArray[Any] = np.load(io.BytesIO(blob), allow_pickle=False)
    return loaded


def block_code(bx: int, by: int) -> int:
    return bx * (1 << BLOCK_ZOOM) + by


def block_of_code(code: int) -> Block:
    bx, by = divmod(int(code), 1 << BLOCK_ZOOM)
    return bx, by


# -- grid: cells to blocks --------------------------------------------------------------------------


def cell_blocks(codes: IntArray) -> tuple[IntArray, IntArray]:
    """(block code, cell code) pairs: each cell with every block within `MARGIN` z 6 pixels of
    its position (its own block among them), unique, sorted by block then cell."""
    if codes.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    lat_i, lon_i = decode_cells(codes)
    size = world_pixels(BLOCK_ZOOM)
    x = lon_to_x(lon_i / SCALE, BLOCK_ZOOM)
    y = np.clip(lat_to_y(lat_i / SCALE, BLOCK_ZOOM), 0, size - 1)
    blocks, cells = [], []
    for dx in (-MARGIN, MARGIN):
        for dy in (-MARGIN, MARGIN):
            bx = (np.floor((x + dx) / TILE_SIZE).astype(np.int64)) % (1 << BLOCK_ZOOM)
            by = np.floor(np.clip(y + dy, 0, size - 1) / TILE_SIZE).astype(np.int64)
            blocks.append(bx * (1 << BLOCK_ZOOM) + by)
            cells.append(codes)
    pairs = np.unique(np.stack([np.concatenate(blocks), np.concatenate(cells)], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def own_block(codes: IntArray) -> IntArray:
    """The block whose z 6 tile holds each cell's centre pixel (the pixel the renderer marks)."""
    lat_i, lon_i = decode_cells(codes)
    size = world_pixels(10)
    gx = np.floor(lon_to_x(lon_i / SCALE, 10)).astype(np.int64).clip(0, size - 1)
    gy = np.floor(lat_to_y(lat_i / SCALE, 10)).astype(np.int64).clip(0, size - 1)
    shift = 10 - BLOCK_ZOOM + 8  # z 10 pixel → z 6 tile
    result: IntArray = (gx >> shift) * (1 << BLOCK_ZOOM) + (gy >> shift)
    return result


def write_grid_shard(store: ObjectStore, key: str, codes: IntArray) -> IntArray:
    """The cells of one grid shard as int64 codes sorted by block; index rows (block, start, count)."""
    blocks, cells = cell_blocks(np.unique(codes))
    store.put(key, cells.astype("<i8").tobytes(), "application/octet-stream", PRIVATE)
    if blocks.size == 0:
        return np.zeros((0, 3), dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]])
    counts = np.diff(np.r_[starts, blocks.size])
    index: IntArray = np.stack([blocks[starts], starts, counts], axis=1).astype(np.int64)
    return index


def read_cells(store: ObjectStore, ranges: Iterable[tuple[str, int, int]]) -> IntArray:
    """The cell codes of (grid shard key, first, count) ranges, unique and sorted."""
    parts = [
        np.frombuffer(store.get_range(key, first * 8, (first + count) * 8), dtype="<i8").astype(np.int64)
        for key, first, count in ranges
    ]
    codes: IntArray = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    return codes


# -- block archives -----------------------------------------------------------------------------


@dataclass
class TileSet:
    """Tiles in tile-id order as one blob (identical tiles stored once) and its directory."""

    blob: bytes
    ids: IntArray
    offsets: IntArray
    lengths: IntArray

    @classmethod
    def build(cls, tiles: Iterable[tuple[int, bytes]]) -> TileSet:
        out = bytearray()
        seen: dict[bytes, int] = {}
        ids, offsets, lengths = [], [], []
        for tile_id, data in sorted(tiles):
            digest = hashlib.sha256(data).digest()
            offset = seen.get(digest)
            if offset is None:
                offset = seen[digest] = len(out)
                out += data
            ids.append(tile_id)
            offsets.append(offset)
            lengths.append(len(data))
        return cls(
            bytes(out),
            np.array(ids, dtype=np.int64),
            np.array(offsets, dtype=np.int64),
            np.array(lengths, dtype=np.int64),
        )

    def tiles(self) -> Iterator[tuple[int, bytes]]:
        for tile_id, offset, length in zip(
            self.ids.tolist(), self.offsets.tolist(), self.lengths.tolist(), strict=True
        ):
            yield tile_id, self.blob[offset : offset + length]

    def directory(self) -> bytes:
        return save_array(np.stack([self.ids, self.offsets, self.lengths], axis=1).reshape(-1, 3))

    @classmethod
    def load(cls, store: ObjectStore, prefix: str) -> TileSet | None:
        directory, blob = Directory.load(store, prefix), store.get(prefix + ".tiles")
        if directory is None or blob is None:
            return None
        return cls(blob, directory.ids, directory.offsets, directory.lengths)

    def save(self, store: ObjectStore, prefix: str) -> None:
        store.put(prefix + ".tiles", self.blob, "application/octet-stream", PRIVATE)
        store.put(prefix + ".dir.npy", self.directory(), "application/octet-stream", PRIVATE)


@dataclass(frozen=True)
class Directory:
    """A stored tile set's directory and where its blob is (the blob itself is not read)."""

    ids: IntArray
    offsets: IntArray
    lengths: IntArray
    key: str
    size: int

    @classmethod
    def load(cls, store: ObjectStore, prefix: str) -> Directory | None:
        directory, size = store.get(prefix + ".dir.npy"), store.size(prefix + ".tiles")
        if directory is None or size is None:
            return None
        rows = load_array(directory).astype(np.int64).reshape(-1, 3)
        return cls(rows[:, 0], rows[:, 1], rows[:, 2], prefix + ".tiles", size)


def block_prefix(block: Block) -> str:
    return f"{STATE_PREFIX}{block[0]}-{block[1]}"


def _in_block(tiles: Iterable[tuple[int, int]], zoom: int, block: Block) -> list[tuple[int, int]]:
    shift = zoom - BLOCK_ZOOM
    return sorted((x, y) for x, y in tiles if (x >> shift, y >> shift) == block)


def _block_columns(block: Block, zoom: int) -> range:
    shift = zoom - BLOCK_ZOOM
    return range(block[0] << shift, (block[0] + 1) << shift)


@dataclass(frozen=True)
class BlockResult:
    block: Block
    inputs: int  # cells drawn on the block's tiles (its own and those within the margin)
    cells: int  # cells whose centre lies in the block
    changed_cells: int
    full: bool
    rendered: int
    written: int
    deleted: int
    tiles: int
    bounds: tuple[int, int, int, int] | None  # (lat_i min, lon_i min, lat_i max, lon_i max) of own cells

    def as_json(self) -> dict[str, Any]:
        return {
            "block": list(self.block),
            "inputs": self.inputs,
            "cells": self.cells,
            "changed_cells": self.changed_cells,
            "full": self.full,
            "rendered": self.rendered,
            "written": self.written,
            "deleted": self.deleted,
            "tiles": self.tiles,
            "bounds": list(self.bounds) if self.bounds else None,
        }


def _stale_pngs(block: Block, assets: ObjectStore, written: set[str]) -> list[str]:
    """PNGs in the block's tile range that this run did not write (a block without a record of
    what it drew before removes what no cell draws any more)."""
    stale = []
    for zoom in range(BLOCK_ZOOM, MAX_ZOOM + 1):
        rows = _block_columns((block[1], block[0]), zoom)  # the block's y range at this zoom
        for x in _block_columns(block, zoom):
            folder = f"{TILES_PREFIX}{zoom}/{x}/"
            for key in assets.keys(folder):
                name = key[len(folder) :].removesuffix(".png")
                if key.endswith(".png") and name.isdigit() and int(name) in rows and key not in written:
                    stale.append(key)
    return stale


def _centre_pixels(own: IntArray, zoom: int) -> IntArray:
    """Unique (x, y) centre pixels at `zoom` of cells, derived from z 10 as the renderer does."""
    lat_i, lon_i = decode_cells(own)
    size = world_pixels(10)
    gx = np.floor(lon_to_x(lon_i / SCALE, 10)).astype(np.int64).clip(0, size - 1)
    gy = np.floor(lat_to_y(lat_i / SCALE, 10)).astype(np.int64).clip(0, size - 1)
    for level in range(10, zoom, -1):
        gx, gy = halve_pixels(gx, gy, level)
    pixels: IntArray = np.stack([gx, gy], axis=1)
    return pixels


def render_block(
    block: Block, codes: IntArray, assets: ObjectStore, state: ObjectStore, pixels_key: str
) -> BlockResult:
    """Bring one block's PNGs and block archive up to `codes` (its own and margin cells); store its
    own cells' z 5 centre pixels at `pixels_key` (in `state`) for the coarse zooms."""
    prefix = block_prefix(block)
    previous_codes = state.get(prefix + ".npy")
    previous = TileSet.load(state, prefix) if previous_codes is not None else None
    full = previous is None
    grid = CoverageGrid(codes)
    changed = grid if full else grid.changed(CoverageGrid.from_codes(load_array(previous_codes or b"")))
    own = codes[own_block(codes) == block_code(*block)] if codes.size else codes
    fresh, empty_keys, written_keys = render_changed(
        grid,
        changed,
        assets,
        range(BLOCK_ZOOM, MAX_ZOOM + 1),
        lambda tiles, zoom: _in_block(tiles, zoom, block),
    )
    if full:
        empty_keys += _stale_pngs(block, assets, written_keys)
    deleted = assets.delete(sorted(set(empty_keys))) if empty_keys else 0
    if full or fresh:
        kept = ((i, d) for i, d in (previous.tiles() if previous else iter(())) if i not in fresh)
        tiles = TileSet.build([*kept, *((i, d) for i, d in fresh.items() if d is not None)])
    else:
        assert previous is not None
        tiles = previous
    pixels = _centre_pixels(own, BLOCK_ZOOM - 1)
    state.put(pixels_key, save_array(pixels), "application/octet-stream", PRIVATE)
    if codes.size == 0:
        state.delete([prefix + ".npy", prefix + ".tiles", prefix + ".dir.npy"])
    else:
        if full or fresh:
            tiles.save(state, prefix)
        state.put(prefix + ".npy", save_array(codes), "application/octet-stream", PRIVATE)  # last
    lat_i, lon_i = decode_cells(own)
    bounds = (int(lat_i.min()), int(lon_i.min()), int(lat_i.max()), int(lon_i.max())) if own.size else None
    own_changed = int(np.isin(changed.codes, own, assume_unique=True).sum()) if own.size else 0
    return BlockResult(
        block,
        int(codes.size),
        int(own.size),
        own_changed,
        full,
        len(fresh),
        len(written_keys),
        deleted,
        int(tiles.ids.size),
        bounds,
    )


# -- finish: coarse zooms and the archive ---------------------------------------------------------


def coarse_tiles(pixels: Sequence[IntArray]) -> Iterator[tuple[int, int, int, bytes]]:
    """(z, x, y, PNG) of every z 0–5 tile with coverage, from the blocks' z 5 centre pixels."""
    stacked = np.concatenate([p.reshape(-1, 2) for p in pixels]) if pixels else np.zeros((0, 2), np.int64)
    zoom = BLOCK_ZOOM - 1
    size = world_pixels(zoom)
    flat = np.unique(stacked[:, 0].astype(np.int64) * size + stacked[:, 1].astype(np.int64))
    gx, gy = np.divmod(flat, size)
    while zoom >= 0:
        if gx.size:
            dx, dy = dotted_pixels(gx, gy, zoom)
            codes = np.unique((dx // TILE_SIZE) * (1 << zoom) + dy // TILE_SIZE)
            tx, ty = np.divmod(codes, 1 << zoom)
            wanted = list(zip(tx.tolist(), ty.tolist(), strict=True))
            for (x, y), mask in render_coarse(dx, dy, zoom, wanted):
                if mask.any():
                    yield zoom, x, y, encode_png(mask)
        if zoom:
            gx, gy = halve_pixels(gx, gy, zoom)
        zoom -= 1


def publish_coarse(
    tiles: Iterable[tuple[int, int, int, bytes]], assets: ObjectStore, state: ObjectStore
) -> tuple[TileSet, int, int]:
    """Upload the coarse tiles whose bytes changed since the last run, delete the vanished ones;
    (the coarse tile set, PNGs written, PNGs deleted)."""
    from pmtiles.tile import tileid_to_zxy, zxy_to_tileid

    previous = TileSet.load(state, COARSE_KEY)
    before = dict(previous.tiles()) if previous else {}
    current: dict[int, bytes] = {}
    written = 0
    for z, x, y, png in tiles:
        tile_id = zxy_to_tileid(z, x, y)
        current[tile_id] = png
        if before.get(tile_id) != png:
            assets.put(tile_key(z, x, y), png, PNG_TYPE, TILE_CACHE)
            written += 1
    gone = [tile_key(*tileid_to_zxy(i)) for i in before if i not in current]
    deleted = assets.delete(gone) if gone else 0
    coarse = TileSet.build(current.items())
    coarse.save(state, COARSE_KEY)
    return coarse, written, deleted


def grid_bounds(bounds: Iterable[Sequence[int] | None]) -> CoverageGrid:
    """A two-cell grid spanning the given (lat_i, lon_i) bounds: what `write_archive` reads its
    header's bounds and centre from."""
    boxes = [b for b in bounds if b]
    if not boxes:
        return CoverageGrid(np.zeros(0, dtype=np.int64))
    lat_lo, lon_lo = min(b[0] for b in boxes), min(b[1] for b in boxes)
    lat_hi, lon_hi = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return CoverageGrid.from_cells([(lat_lo, lon_lo), (lat_hi, lon_hi)])


@dataclass(frozen=True)
class ArchiveResult:
    tiles: int
    size: int


def write_block_archive(
    coarse: TileSet,
    blocks: Sequence[Directory],
    state: ObjectStore,
    assets: ObjectStore,
    header_key: str,
    bounds: CoverageGrid,
    now: datetime,
) -> ArchiveResult:
    """`tiles/coverage.pmtiles` from the coarse tiles and the block archives, merged by tile
    range: only the directories are in memory; the block archives' bytes are copied inside S3."""
    from pmtiles import writer as pmtiles_writer
    from pmtiles.tile import Entry

    from openloc.publish.tile_set import archive_header, write_archive

    if coarse.ids.size == 0 and not any(block.ids.size for block in blocks):
        archive = write_archive(iter(()), bounds, now)
        assets.put(PMTILES_KEY, archive, PMTILES_TYPE, TILE_CACHE)
        return ArchiveResult(0, len(archive))
    ids, offsets, lengths = [coarse.ids], [coarse.offsets], [coarse.lengths]
    base = len(coarse.blob)
    pieces: list[Piece] = []
    contents = len(np.unique(coarse.offsets))
    for block in blocks:
        if not block.ids.size:
            continue
        ids.append(block.ids)
        offsets.append(block.offsets + base)
        lengths.append(block.lengths)
        pieces.append(Piece(state, block.key, 0, block.size))
        base += block.size
        contents += len(np.unique(block.offsets))
    all_ids, all_offsets, all_lengths = np.concatenate(ids), np.concatenate(offsets), np.concatenate(lengths)
    order = np.argsort(all_ids, kind="stable")
    all_ids, all_offsets, all_lengths = all_ids[order], all_offsets[order], all_lengths[order]
    entries: list[Any] = []
    for tile_id, offset, length in zip(
        all_ids.tolist(), all_offsets.tolist(), all_lengths.tolist(), strict=True
    ):
        last = entries[-1] if entries else None
        if last is not None and last.offset == offset and tile_id == last.tile_id + last.run_length:
            last.run_length += 1
        else:
            entries.append(Entry(tile_id, offset, length, 1))
    header, metadata = archive_header(bounds, now)
    untyped: Any = pmtiles_writer  # the package's functions are untyped
    head, root, meta, leaves = untyped.finalize_header(
        header, int(all_ids.size), entries, contents, metadata, False, base
    )
    state.put(header_key, head + root + meta + leaves + coarse.blob, "application/octet-stream", PRIVATE)
    uploaded = assets.compose(PMTILES_KEY, [Piece(state, header_key), *pieces], PMTILES_TYPE, TILE_CACHE)
    return ArchiveResult(int(all_ids.size), uploaded.size)


def load_blocks_list(state: ObjectStore) -> list[Block]:
    body = state.get(BLOCKS_KEY)
    return [(int(b[0]), int(b[1])) for b in json.loads(body)] if body else []


def save_blocks_list(state: ObjectStore, blocks: Iterable[Block]) -> None:
    state.put(BLOCKS_KEY, json.dumps(sorted(blocks)).encode(), "application/json", PRIVATE)
