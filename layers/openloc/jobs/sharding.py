"""Sharded jobs: a job split into stages of independent shards, run by Step Functions in AWS and
by `openloc.jobs.executor` locally, through the same three handlers.

A `ShardedJob` is a sequence of `Stage`s. Each stage has three steps, each one Lambda invocation
of the jobs function (`functions/export/handler.py`) with a phase event:

    plan    lists the stage's shards (JSON items) into the private bucket, at
            `jobs/<task>/<run>/stage-<k>/items.json`: the Distributed Map's ItemReader reads it;
    shard   does one item's work (one Map iteration) and stores its result JSON at
            `jobs/<task>/<run>/stage-<k>/results/<id>.json`;
    finish  reads every result of the stage (a missing one fails the stage), reduces them and
            stores the stage's summary at `jobs/<task>/<run>/stage-<k>/summary.json`, which the
            next stage's plan receives. The last stage's summary is the job's result.

The phase event (the state machine builds it with JSONPath, `infra/jobs.py`; the local executor
builds the same dict):

    {"phase": "plan" | "shard" | "finish", "task": "<task>", "stage": <k>, "run": "<run id>",
     "started": "<ISO time the run started>", "input": {"time": "<ISO>"?, "params": {...}?},
     "item": {...} (shard only), "count": <items planned> (finish only)}

The run id is the execution name: every intermediate object of a run lives under its prefix, so
a retried shard overwrites its own outputs (shards are idempotent) and two runs never mix. The
last finish deletes the run's prefix; a failed run's leftovers expire by the bucket's lifecycle
rule on `jobs/` (infra/storage.py). Everything a step passes on goes through S3, never through
the state machine (its payload limit is 256 KB).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from openloc.jobs.stores import JobResult, JobStores

JOBS_PREFIX = "jobs/"
JSON_TYPE = "application/json"
PRIVATE = "no-store"
# A stage never plans more shards than this: a composed file has at most one S3 multipart part
# per shard and S3 allows 10 000 parts (at the default shard sizes: 20 G cells, 10 G stations).
MAX_SHARDS = 10_000

Json = dict[str, Any]


class JobInputError(ValueError):
    """The execution input names something the job cannot run with (missing params)."""


@dataclass(frozen=True)
class RunContext:
    """One run of a sharded job: its id, clock and parameters (the execution input's `params`)."""

    task: str
    run: str
    now: datetime
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"{JOBS_PREFIX}{self.task}/{self.run}/"

    def key(self, name: str) -> str:
        """A private object of this run (in `JobStores.state`, the archive bucket)."""
        return f"{self.prefix}{name}"

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise JobInputError(f"{self.task} needs the input parameter {name!r}")
        return self.params[name]


class Stage(Protocol):
    """One stage: its shards are independent of each other and idempotent."""

    name: str
    max_concurrency: int  # Distributed Map MaxConcurrency (bounds the load on tables/buckets)

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        """The stage's shard items (JSON objects); `previous` is the summary of the stage before."""
        ...

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        """Do one shard; its (small) result."""
        ...

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        """Reduce the shard results (in item order) into the stage's summary."""
        ...


@dataclass(frozen=True)
class ShardedJob:
    task: str
    stages: tuple[Stage, ...]
    description: str = ""
    # The job's metrics from its final summary (CloudWatch counts).
    metrics: Callable[[Json], dict[str, int]] = lambda summary: {}

    def result(self, summary: Json) -> JobResult:
        return JobResult(self.task, summary=summary, metrics=self.metrics(summary))


def stage_key(ctx: RunContext, stage: int, name: str) -> str:
    return ctx.key(f"stage-{stage}/{name}")


def items_key(ctx: RunContext, stage: int) -> str:
    return stage_key(ctx, stage, "items.json")


def result_key(ctx: RunContext, stage: int, item_id: int) -> str:
    return stage_key(ctx, stage, f"results/{item_id:06d}.json")


def summary_key(ctx: RunContext, stage: int) -> str:
    return stage_key(ctx, stage, "summary.json")


def put_json(stores: JobStores, key: str, value: Any) -> None:
    stores.state.put(key, json.dumps(value, separators=(",", ":")).encode(), JSON_TYPE, PRIVATE)


def get_json(stores: JobStores, key: str) -> Any:
    body = stores.state.get(key)
    if body is None:
        raise FileNotFoundError(key)
    return json.loads(body)


def context_of(event: Mapping[str, Any]) -> RunContext:
    """The run of a phase event: the clock is the input's `time` (an operator's re-run or the
    scheduled time EventBridge passed), else the time the execution started."""
    raw_input = event.get("input")
    job_input: Mapping[str, Any] = raw_input if isinstance(raw_input, Mapping) else {}
    now = _parse_time(job_input.get("time")) or _parse_time(event.get("started")) or datetime.now(UTC)
    params = job_input.get("params")
    run = str(event.get("run") or "")
    if not run or "/" in run:
        raise JobInputError("a phase event needs a run id without '/'")
    return RunContext(str(event["task"]), run, now, params if isinstance(params, Mapping) else {})


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def plan(job: ShardedJob, stores: JobStores, ctx: RunContext, stage: int) -> Json:
    previous = get_json(stores, summary_key(ctx, stage - 1)) if stage > 0 else {}
    items = job.stages[stage].plan(stores, ctx, previous)
    if len(items) > MAX_SHARDS:
        raise ValueError(f"{job.task} stage {stage} planned {len(items)} shards (at most {MAX_SHARDS})")
    numbered = [{**item, "id": index} for index, item in enumerate(items)]
    put_json(stores, items_key(ctx, stage), numbered)
    return {"stage": stage, "items_key": items_key(ctx, stage), "count": len(numbered)}


def shard(job: ShardedJob, stores: JobStores, ctx: RunContext, stage: int, item: Json) -> Json:
    result = job.stages[stage].shard(stores, ctx, item)
    put_json(stores, result_key(ctx, stage, int(item["id"])), result)
    return {"stage": stage, "id": item["id"]}


def finish(job: ShardedJob, stores: JobStores, ctx: RunContext, stage: int, count: int) -> Json:
    previous = get_json(stores, summary_key(ctx, stage - 1)) if stage > 0 else {}
    results = []
    for item_id in range(count):
        try:
            results.append(get_json(stores, result_key(ctx, stage, item_id)))
        except FileNotFoundError as error:
            raise RuntimeError(f"{job.task} stage {stage}: shard {item_id} left no result") from error
    summary = job.stages[stage].finish(stores, ctx, results, previous)
    last = stage == len(job.stages) - 1
    if last:
        stores.state.delete(list(stores.state.keys(ctx.prefix)))
    else:
        put_json(stores, summary_key(ctx, stage), summary)
    return {"stage": stage, "done": last, "summary": summary if last else {}}


def handle(job: ShardedJob, stores: JobStores, event: Mapping[str, Any]) -> Json:
    """Run one phase event (the jobs function's entry point for state machine events)."""
    ctx = context_of(event)
    stage = int(event.get("stage", 0))
    if not 0 <= stage < len(job.stages):
        raise JobInputError(f"{job.task} has no stage {stage}")
    phase = event.get("phase")
    if phase == "plan":
        return plan(job, stores, ctx, stage)
    if phase == "shard":
        item = event.get("item")
        if not isinstance(item, Mapping) or "id" not in item:
            raise JobInputError("a shard event needs its item (with its id)")
        return shard(job, stores, ctx, stage, dict(item))
    if phase == "finish":
        return finish(job, stores, ctx, stage, int(event.get("count", 0)))
    raise JobInputError(f"unknown phase {phase!r}")


def phase_event(
    job: ShardedJob,
    phase: str,
    stage: int,
    run: str,
    started: datetime,
    job_input: Mapping[str, Any],
    item: Json | None = None,
    count: int | None = None,
) -> Json:
    """The event the state machine sends for one step (what `handle` receives)."""
    event: Json = {
        "phase": phase,
        "task": job.task,
        "stage": stage,
        "run": run,
        "started": started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "input": dict(job_input),
    }
    if item is not None:
        event["item"] = item
    if count is not None:
        event["count"] = count
    return event


def shards_needed(total: int, per_shard: int, cap: int = MAX_SHARDS) -> int:
    """Shards for `total` units at `per_shard` each: at least one, at most `cap`."""
    return max(1, min(cap, -(-max(total, 0) // max(per_shard, 1))))


def segment_items(total: int, per_shard: int) -> list[Json]:
    """Items of a stage that reads a table in parallel Scan segments: one per segment, sized so
    a shard reads about `per_shard` of the `total` items."""
    shards = shards_needed(total, per_shard)
    return [{"shard": index, "shards": shards} for index in range(shards)]


def split_evenly(values: Sequence[Any], parts: int) -> list[list[Any]]:
    """`values` in `parts` contiguous groups of nearly equal length (none empty when possible)."""
    parts = max(1, min(parts, len(values))) if values else 1
    size, extra = divmod(len(values), parts)
    groups, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        groups.append(list(values[start:end]))
        start = end
    return groups
