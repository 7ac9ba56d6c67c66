"""`replay` (on demand): `openloc replay --sharded`, the archive re-aggregated by many workers.

One stage: the plan lists the archive objects under `params.prefix` (in `params.bucket`, default
the deployment's archive bucket), leaves out those past `ARCHIVE_RETENTION_DAYS`, and cuts the
rest into shards of `REPLAY_SHARD_OBJECTS`; each shard aggregates its objects with the live
pipeline code (`ingest.replay.replay_object`), one object = the SQS message it archived.

Shards always replay *as messages* (`--as-messages`): an object already aggregated is skipped
and a partly applied one adds only what is missing, so a retried shard or a second run never
counts an observation twice. A rebuild into fresh tables therefore needs a fresh `processed`
table as well (PROCESSED_TABLE), like the single-process rebuild (docs/operations.md).
"""

from __future__ import annotations

from dataclasses import asdict, fields

from openloc.ingest.replay import ReplayResult, oldest_report_ms, replay_object, replayable_keys
from openloc.jobs.sharding import Json, RunContext, ShardedJob, split_evenly
from openloc.jobs.stores import JobStores
from openloc.store.archive import Archive

TASK = "replay"


def _source(stores: JobStores, ctx: RunContext) -> Archive:
    bucket = str(ctx.params.get("bucket") or "")
    if not bucket or bucket == stores.settings.archive_bucket:
        return stores.pipeline_stores().archive
    from openloc.store.archive import S3Archive

    return S3Archive.from_settings(stores.settings, bucket=bucket)


class ObjectShards:
    name = "objects"
    max_concurrency = 32  # aggregators writing at once: as many as a busy live queue

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        prefix = str(ctx.param("prefix"))
        keys, expired = replayable_keys(
            _source(stores, ctx), prefix, ctx.now, stores.settings.archive_retention_days
        )
        per_shard = stores.settings.replay_shard_objects
        groups = split_evenly(keys, -(-len(keys) // per_shard)) if keys else []
        return [
            {"keys": group, "expired_objects": expired if index == 0 else 0}
            for index, group in enumerate(groups)
        ]

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        source = _source(stores, ctx)
        result = ReplayResult(expired_objects=int(item.get("expired_objects", 0)))
        oldest = oldest_report_ms(ctx.now, stores.settings.archive_retention_days)
        pipeline = stores.pipeline_stores()
        for key in item["keys"]:
            replay_object(source, key, pipeline, ctx.now, result, True, oldest)
        return asdict(result)

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        return {f.name: sum(int(r[f.name]) for r in results) for f in fields(ReplayResult)}


def _metrics(summary: Json) -> dict[str, int]:
    return {"ReplayedReports": int(summary.get("reports", 0))}


SHARDED = ShardedJob(
    TASK,
    (ObjectShards(),),
    "re-aggregate archived observations (openloc replay --sharded), as messages",
    _metrics,
)
