"""`cell_import` (on demand): `openloc import --sharded`, a cell CSV loaded by many workers.

The CLI uploads the file, uncompressed, to the private bucket (`params.key`); then:

1. `rows`: the plan reads the first line (header or data, `ingest.cell_import.layout_of`) and
   cuts the rest of the file into byte ranges of `IMPORT_SHARD_BYTES`. A shard owns the lines that
   start inside its range (`line_range`), validates them as the single-process import does and
   writes them with BatchWriteItem (`write_cells`, 4 threads); the keys of the cell areas it
   touched go to an object of its own.
2. `areas`: the union of those area keys, cut into chunks of `AREAS_PER_SHARD`; each shard
   recomputes its areas from all of their cells (`recompute_areas`).

Rows are written unconditionally (a bulk load, as `openloc import`): a retried shard writes the
same items again, so retries are harmless.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from openloc.ingest.cell_import import ImportResult, layout_of, line_range, parse_data, write_cells
from openloc.ingest.station_writes import recompute_areas
from openloc.jobs.sharding import Json, RunContext, ShardedJob, get_json, put_json, shards_needed
from openloc.jobs.stores import JobStores

TASK = "cell_import"
UPLOADS_PREFIX = "jobs/cell_import/uploads/"
AREAS_PER_SHARD = 20_000
HEAD_BYTES = 64 * 1024
TAIL_BYTES = 64 * 1024
WRITERS = 4


def _bulk(stores: JobStores) -> None:
    """Bulk-load retries on the DynamoDB store (throttled batches back off instead of failing)."""
    bulk_load_mode = getattr(stores.stations, "bulk_load_mode", None)
    if callable(bulk_load_mode):
        bulk_load_mode()


class RowShards:
    name = "rows"
    # 8 shards × ~5 000 BatchWriteItem rows/s ≈ 40 000 writes/s: DynamoDB's default per-table
    # throughput quota; more shards would only be throttled (docs/benchmarks.md).
    max_concurrency = 8

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        key = str(ctx.param("key"))
        size = stores.state.size(key)
        if size is None:
            raise FileNotFoundError(f"no uploaded file {key}")
        head = stores.state.get_range(key, 0, min(size, HEAD_BYTES))
        newline = head.find(b"\n")
        first_line = head if newline < 0 else head[: newline + 1]
        first = next(csv.reader([first_line.decode("utf-8", "replace").lstrip("\ufeff")]), [])
        columns, first_is_data = layout_of(first)
        start = 0 if first_is_data else len(first_line)
        shards = shards_needed(size - start, stores.settings.import_shard_bytes)
        step = -(-(size - start) // shards) if size > start else 0
        return [
            {
                "key": key,
                "start": start + index * step,
                "end": min(size, start + (index + 1) * step),
                "first": index == 0,
                "size": size,
                "columns": columns,
            }
            for index in range(shards)
            if start + index * step < size
        ]

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        _bulk(stores)
        key, start, end, size = str(item["key"]), int(item["start"]), int(item["end"]), int(item["size"])
        first = bool(item["first"])
        data = stores.state.get_range(key, start if first else start - 1, end)
        position = [end]

        def more() -> bytes:
            chunk = stores.state.get_range(key, position[0], min(size, position[0] + TAIL_BYTES))
            position[0] += len(chunk)
            return chunk

        text = io.StringIO(line_range(data, first, more).decode("utf-8", "replace"), newline="")
        result = ImportResult()
        columns = {name: [int(i) for i in indexes] for name, indexes in item["columns"].items()}
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            areas = write_cells(
                parse_data(csv.reader(text), columns, result), stores.stations, ctx.now, result, pool, WRITERS
            )
        areas_key = ctx.key(f"areas/shard-{int(item['id']):05d}.json")
        put_json(stores, areas_key, sorted(areas))
        return {
            "rows": result.rows,
            "imported": result.imported,
            "invalid": dict(result.invalid),
            "areas": areas_key,
        }

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        invalid: Counter[str] = Counter()
        for result in results:
            invalid.update(result["invalid"])
        return {
            "rows": sum(int(r["rows"]) for r in results),
            "imported": sum(int(r["imported"]) for r in results),
            "invalid": dict(invalid.most_common()),
            "area_lists": [r["areas"] for r in results],
        }


class AreaShards:
    name = "areas"
    max_concurrency = 32

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        keys: set[str] = set()
        for name in previous["area_lists"]:
            keys.update(get_json(stores, name))
        ordered = sorted(keys)
        items = []
        for index in range(0, len(ordered), AREAS_PER_SHARD):
            chunk = ctx.key(f"areas/chunk-{index // AREAS_PER_SHARD:05d}.json")
            put_json(stores, chunk, ordered[index : index + AREAS_PER_SHARD])
            items.append({"areas": chunk})
        return items

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        _bulk(stores)
        with ThreadPoolExecutor(max_workers=8) as pool:
            updated, deleted = recompute_areas(
                stores.stations, get_json(stores, item["areas"]), ctx.now, pool
            )
        return {"updated": updated, "deleted": deleted}

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        return {
            "rows": previous["rows"],
            "imported": previous["imported"],
            "invalid": previous["invalid"],
            "areas_updated": sum(int(r["updated"]) for r in results),
            "areas_deleted": sum(int(r["deleted"]) for r in results),
        }


def _metrics(summary: Json) -> dict[str, int]:
    return {"ImportedCells": int(summary.get("imported", 0))}


SHARDED = ShardedJob(
    TASK,
    (RowShards(), AreaShards()),
    "bulk import of an MLS/OpenCellID cell CSV uploaded to the private bucket (openloc import --sharded)",
    _metrics,
)
