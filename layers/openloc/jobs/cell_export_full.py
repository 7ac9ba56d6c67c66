"""`cell_export_full` (daily): every published cell as one gzipped MLS CSV, listed in downloads.json.

Single run (`run`): reads the cells-only `by_area` index with `CELL_EXPORT_SEGMENTS` parallel
Scan segments and streams the rows into a multipart upload (`publish.cell_export`).

Sharded (`SHARDED`, what the state machine and the local stack run), one stage:

- plan: `ceil(cells / CELL_EXPORT_SHARD_CELLS)` shards from the index's item count;
- shard i of n: Scan segments i·s … i·s + s − 1 of n·s (s = `CELL_EXPORT_SEGMENTS`, one thread
  each), its rows as one gzip member in the private bucket;
- finish: the file composed in S3 from a header member and the shards' members (UploadPartCopy),
  listed in `downloads.json` once, superseded full exports deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from openloc.jobs.sharding import Json, RunContext, ShardedJob, segment_items
from openloc.jobs.stores import JobResult, JobStores
from openloc.model.kinds import FileKind
from openloc.publish.cell_export import (
    CONTENT_TYPE,
    ExportResult,
    compose_export,
    full_export_key,
    header_member,
    publish_export,
    write_export,
)
from openloc.store.cell_source import all_cells, segment_cells
from openloc.store.objects import Piece

TASK = "cell_export_full"


def export_result(task: str, result: ExportResult) -> JobResult:
    """The job result of a cell export (shared by the full and the diff export)."""
    return JobResult(task, summary=export_summary(result), metrics=export_metrics(export_summary(result)))


def export_summary(result: ExportResult) -> Json:
    return {"key": result.key, "rows": result.rows, "size": result.size}


def export_metrics(summary: Json) -> dict[str, int]:
    return {"CellExportsWritten": 1, "CellExportRows": int(summary.get("rows", 0))}


def run(stores: JobStores, now: datetime) -> JobResult:
    now = now.astimezone(UTC)
    settings = stores.settings
    cells = all_cells(stores.cells, settings.cell_export_segments)
    written = write_export(stores.assets, full_export_key(now), cells, now, settings.cell_export_min_samples)
    return export_result(TASK, publish_export(stores.assets, FileKind.CELL_FULL, written, now))


class CellShards:
    name = "cells"
    max_concurrency = 64

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        cells = stores.cells.approximate_count()
        if cells is None:  # not counted yet (a new index): the whole table, an upper bound
            cells = stores.stations.approximate_counts()[0]
        return segment_items(cells, stores.settings.cell_export_shard_cells)

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        threads = stores.settings.cell_export_segments
        first = int(item["shard"]) * threads
        cells = segment_cells(stores.cells, range(first, first + threads), int(item["shards"]) * threads)
        key = ctx.key(f"cells/part-{int(item['id']):05d}.csv.gz")
        written = write_export(
            stores.state, key, cells, ctx.now, stores.settings.cell_export_min_samples, header=False
        )
        return {"key": key, "rows": written.rows, "size": written.size}

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        header = ctx.key("cells/header.csv.gz")
        stores.state.put(header, header_member(ctx.now), CONTENT_TYPE, "no-store")
        parts = [(Piece(stores.state, r["key"], 0, int(r["size"])), int(r["rows"])) for r in results]
        composed = compose_export(
            stores.assets, full_export_key(ctx.now), ctx.now, Piece(stores.state, header), parts
        )
        published = publish_export(stores.assets, FileKind.CELL_FULL, composed, ctx.now)
        return {**export_summary(published), "shards": len(results), "deleted": published.deleted}


SHARDED = ShardedJob(TASK, (CellShards(),), "daily full public cell export", export_metrics)
