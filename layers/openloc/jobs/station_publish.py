"""`station_publish` (daily): the privacy-safe Wi-Fi/Bluetooth dumps and the offline packs.

Which stations are published, and how precisely, is `publish.policy` (docs/privacy.md).

Single run (`run`): one full read of the stations and the cell areas feeds every file
(`publish.dumps`), one file per region.

Sharded (`SHARDED`, what the state machine and the local stack run; `publish.station_shards`):
`scan` (a shard per parallel Scan segment: rows routed to their output groups and 1° grid cells)
→ `build` (a shard per output part: packs and SQLite dumps in parts of at most `PACK_PART_ROWS`
rows, CSV rows as gzip members) → `files` (the CSV dumps composed in S3; `downloads.json`
updated once; older generations deleted).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np
import numpy.typing as npt

from openloc.jobs.sharding import Json, RunContext, ShardedJob, segment_items
from openloc.jobs.stores import JobResult, JobStores
from openloc.publish.dumps import PUBLISHED_KINDS, RETENTION, run_publication
from openloc.publish.manifest import DownloadFile, delete_dropped, update_manifest
from openloc.publish.policy import PublishPolicy
from openloc.publish.station_shards import (
    PartPlan,
    bucket_totals,
    build_part,
    compose_csv,
    csv_header_member,
    decode_index,
    encode_index,
    part_ranges,
    plan_parts,
    read_lines,
    route,
    write_buckets,
)
from openloc.store.objects import Piece

TASK = "station_publish"
# A files shard composes CSV dumps up to about this many bytes (its reads dominate: the SHA-256).
FILES_SHARD_BYTES = 4 * 1024**3


def policy(stores: JobStores) -> PublishPolicy:
    settings = stores.settings
    return PublishPolicy(
        settings.publish_min_samples, settings.publish_min_days, settings.cell_export_min_samples
    )


def run(stores: JobStores, now: datetime) -> JobResult:
    published = run_publication(
        stores.assets, stores.stations.scan_stations(), stores.stations.scan_areas(), now, policy(stores)
    )
    return JobResult(
        TASK,
        summary={"files": [f.path for f in published.files], "deleted": published.deleted},
        metrics={"PublishedFiles": len(published.files)},
    )


def _scan_key(ctx: RunContext, shard: int) -> str:
    return ctx.key(f"scan/{shard:05d}.bin")


class ScanStage:
    name = "scan"
    max_concurrency = 64

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        stations, _areas = stores.stations.approximate_counts()
        return segment_items(stations, stores.settings.publish_shard_stations)

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        segment, total = int(item["shard"]), int(item["shards"])
        buckets = route(
            stores.stations.scan_stations(segment=segment, total_segments=total),
            stores.stations.scan_areas(segment=segment, total_segments=total),
            ctx.now.date(),
            policy(stores),
        )
        key = _scan_key(ctx, int(item["id"]))
        index = write_buckets(stores.state, key, buckets)
        stores.state.put(key + ".index.npy", encode_index(index), "application/octet-stream", "no-store")
        return {"key": key, "buckets": len(index), "rows": int(index[:, 3].sum()) if len(index) else 0}

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        return {"scans": [r["key"] for r in results], "rows": sum(int(r["rows"]) for r in results)}


class BuildStage:
    name = "build"
    max_concurrency = 64

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        """Two passes over the scan shards' indexes, one index in memory at a time (1 500 scan
        shards of a world-size table hold ~2 GB of index): the row totals per bucket, then each
        part's byte range in every scan object."""

        def index(shard: int) -> npt.NDArray[np.int64]:
            blob = stores.state.get(_scan_key(ctx, shard) + ".index.npy")
            if blob is None:
                raise FileNotFoundError(_scan_key(ctx, shard) + ".index.npy")
            return decode_index(blob)

        shards = range(len(previous["scans"]))
        codes, rows = bucket_totals(index(shard) for shard in shards)
        parts = plan_parts(codes, rows, stores.settings.pack_part_rows)
        ranges: list[list[list[int]]] = [[] for _ in parts]
        areas: list[list[list[int]]] = [[] for _ in parts]
        for shard in shards:
            current = index(shard)
            for number, part in enumerate(parts):
                found, area = part_ranges(part, current)
                if found:
                    ranges[number].append([shard, *found])
                if area:
                    areas[number].append([shard, *area])
        return [
            {**part.item(), "ranges": ranges[number], "areas": areas[number]}
            for number, part in enumerate(parts)
        ]

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        cut = item.get("slice")
        plan = PartPlan(
            item["family"],
            item["region"],
            int(item["part"]),
            int(item["parts"]),
            item.get("low"),
            item.get("high"),
            (int(cut[0]), int(cut[1])) if cut else None,
            int(item.get("rows", 0)),
        )

        def pieces(ranges: list[list[int]]) -> list[Piece]:
            return [Piece(stores.state, _scan_key(ctx, shard), start, end) for shard, start, end in ranges]

        built = build_part(
            plan,
            read_lines(stores.state, pieces(item["ranges"])),
            read_lines(stores.state, pieces(item["areas"])),
            stores.assets,
            stores.state,
            ctx.key(f"build/{int(item['id']):05d}.csv.gz"),
            ctx.now,
        )
        csv = [built.csv_key, built.csv_size, built.csv_rows] if built.csv_key else None
        return {"entry": built.entry.model_dump(mode="json"), "csv": csv}

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        csv: dict[str, list[list[object]]] = defaultdict(list)
        for result in results:  # item order = part order within each group
            if result["csv"] is not None:
                entry = result["entry"]
                csv[f"{entry['kind']}|{entry['region']}"].append(result["csv"])
        return {"entries": [r["entry"] for r in results], "csv": dict(csv)}


class FilesStage:
    name = "files"
    max_concurrency = 16

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        items: list[Json] = []
        batch: list[Json] = []
        size = 0
        for name, members in sorted(previous["csv"].items()):
            kind, region = name.split("|")
            family = "wifi" if kind == "wifi-dump" else "blue"
            batch.append({"family": family, "region": region, "members": members})
            size += sum(int(m[1]) for m in members)
            if size >= FILES_SHARD_BYTES:
                items.append({"files": batch})
                batch, size = [], 0
        if batch:
            items.append({"files": batch})
        return items

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        header = ctx.key("files/header.csv.gz")
        stores.state.put(header, csv_header_member(ctx.now), "application/gzip", "no-store")
        entries = []
        for file in item["files"]:
            members = [(str(k), int(size), int(rows)) for k, size, rows in file["members"]]
            entry = compose_csv(
                stores.assets, stores.state, file["family"], file["region"], members, header, ctx.now
            )
            entries.append(entry.model_dump(mode="json"))
        return {"entries": entries}

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        raw = [*previous["entries"], *(entry for r in results for entry in r["entries"])]
        files = [DownloadFile.model_validate(entry) for entry in raw]
        update = update_manifest(stores.assets, files, now=ctx.now, retention=RETENTION)
        deleted = delete_dropped(stores.assets, [f for f in update.dropped if f.kind in PUBLISHED_KINDS])
        split = {
            f"{f.kind}:{f.region}": int(getattr(f, "parts", 1) or 1)
            for f in files
            if int(getattr(f, "parts", 1) or 1) > 1
        }
        return {"files": len(files), "deleted": deleted, "split": split}


def _metrics(summary: Json) -> dict[str, int]:
    return {"PublishedFiles": int(summary.get("files", 0))}


SHARDED = ShardedJob(
    TASK,
    (ScanStage(), BuildStage(), FilesStage()),
    "daily privacy-safe Wi-Fi/Bluetooth dumps and offline packs (docs/privacy.md)",
    _metrics,
)
