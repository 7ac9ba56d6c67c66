"""`tiles` (hourly): the coverage map's PNG pyramid and PMTiles archive, changed tiles only.

Input: every grid cell of the datamap table. The tiles go to the public bucket.

Single run (`run`, `publish.tile_set`): one process reads every cell and keeps the cells it
drew in the private state store.

Sharded (`SHARDED`, `publish.tile_blocks`): `grid` (a shard per parallel Scan segment of the
datamap: cells routed to the z 6 blocks they draw on) → `render` (shards of whole blocks: each
block re-renders its changed tiles and keeps its own block archive) → the finish draws z 0–5
and merges the block archives into `tiles/coverage.pmtiles` by tile range.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime
from typing import Any

from openloc.jobs.sharding import Json, RunContext, ShardedJob, segment_items
from openloc.jobs.stores import JobResult, JobStores

TASK = "tiles"
MAX_BLOCKS_PER_SHARD = 64


def run(stores: JobStores, now: datetime) -> JobResult:
    from openloc.publish.tile_set import run_tiles  # deferred: numpy, Pillow and pmtiles
    from openloc.publish.tiles import CoverageGrid

    grid = CoverageGrid.from_grids(stores.coverage.grid_cells())
    tiles = run_tiles(grid, stores.assets, stores.state, now)
    return JobResult(TASK, summary=dataclasses.asdict(tiles), metrics=_metrics(dataclasses.asdict(tiles)))


def _metrics(summary: Json) -> dict[str, int]:
    return {"TilesRendered": int(summary.get("rendered", 0)), "TilesWritten": int(summary.get("written", 0))}


def _grid_key(ctx: RunContext, shard: int) -> str:
    return ctx.key(f"grid/{shard:05d}.bin")


class GridShards:
    name = "grid"
    max_concurrency = 32

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        return segment_items(stores.coverage.approximate_grid_count(), stores.settings.tiles_shard_cells)

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        from openloc.publish.tile_blocks import save_array, write_grid_shard
        from openloc.publish.tiles import CoverageGrid

        grid = CoverageGrid.from_grids(stores.coverage.grid_segment(int(item["shard"]), int(item["shards"])))
        key = _grid_key(ctx, int(item["id"]))
        index = write_grid_shard(stores.state, key, grid.codes)
        stores.state.put(key + ".index.npy", save_array(index), "application/octet-stream", "no-store")
        return {"key": key, "cells": len(grid)}

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        return {"grids": len(results), "cells": sum(int(r["cells"]) for r in results)}


class BlockShards:
    name = "render"
    max_concurrency = 32

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        from openloc.publish.tile_blocks import block_code, load_array, load_blocks_list

        ranges: dict[int, list[list[int]]] = defaultdict(list)
        cells: dict[int, int] = defaultdict(int)
        for shard in range(int(previous["grids"])):
            blob = stores.state.get(_grid_key(ctx, shard) + ".index.npy")
            if blob is None:
                raise FileNotFoundError(_grid_key(ctx, shard) + ".index.npy")
            for code, start, count in load_array(blob).reshape(-1, 3).tolist():
                ranges[int(code)].append([shard, int(start), int(count)])
                cells[int(code)] += int(count)
        for block in load_blocks_list(stores.state):  # blocks that drew before: they may empty
            ranges.setdefault(block_code(*block), [])
        items: list[Json] = []
        batch: list[Any] = []
        load = 0
        for code in sorted(ranges):
            if batch and (
                load + cells[code] > stores.settings.tiles_shard_cells or len(batch) >= MAX_BLOCKS_PER_SHARD
            ):
                items.append({"blocks": batch})
                batch, load = [], 0
            batch.append([code, ranges[code]])
            load += cells[code]
        if batch:
            items.append({"blocks": batch})
        return items

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        from openloc.publish.tile_blocks import block_of_code, read_cells, render_block

        results = []
        for code, ranges in item["blocks"]:
            block = block_of_code(code)
            codes = read_cells(
                stores.state, [(_grid_key(ctx, s), start, count) for s, start, count in ranges]
            )
            pixels = ctx.key(f"render/{block[0]}-{block[1]}.pixels.npy")
            results.append(
                {
                    **render_block(block, codes, stores.assets, stores.state, pixels).as_json(),
                    "pixels": pixels,
                }
            )
        return {"blocks": results}

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        from openloc.publish.tile_blocks import (
            Directory,
            block_prefix,
            coarse_tiles,
            grid_bounds,
            load_array,
            publish_coarse,
            save_blocks_list,
            write_block_archive,
        )

        blocks = [block for result in results for block in result["blocks"]]
        pixels = []
        for block in blocks:
            blob = stores.state.get(block["pixels"])
            if blob is not None:
                pixels.append(load_array(blob))
        coarse, coarse_written, coarse_deleted = publish_coarse(
            coarse_tiles(pixels), stores.assets, stores.state
        )
        kept = [(int(b["block"][0]), int(b["block"][1])) for b in blocks if int(b["inputs"])]
        directories = [d for d in (Directory.load(stores.state, block_prefix(k)) for k in sorted(kept)) if d]
        archive = write_block_archive(
            coarse,
            directories,
            stores.state,
            stores.assets,
            ctx.key("render/archive-head.bin"),
            grid_bounds(b["bounds"] for b in blocks),
            ctx.now,
        )
        save_blocks_list(stores.state, kept)
        return {
            "cells": sum(int(b["cells"]) for b in blocks),
            "changed_cells": sum(int(b["changed_cells"]) for b in blocks),
            # A first run draws every block; later a block without a state (new coverage far from
            # the old) draws fully too, alone.
            "full": bool(blocks) and all(bool(b["full"]) for b in blocks),
            "full_blocks": sum(bool(b["full"]) for b in blocks),
            "blocks": len(blocks),
            # z 0–5 are drawn every run (≤ 1 365 small tiles): counted when their picture changed.
            "rendered": sum(int(b["rendered"]) for b in blocks) + coarse_written + coarse_deleted,
            "written": sum(int(b["written"]) for b in blocks) + coarse_written,
            "deleted": sum(int(b["deleted"]) for b in blocks) + coarse_deleted,
            "archive_tiles": archive.tiles,
            "archive_bytes": archive.size,
        }


SHARDED = ShardedJob(
    TASK, (GridShards(), BlockShards()), "hourly coverage-map tiles (changed tiles only) + PMTiles", _metrics
)
