"""The local stand-in for a job's state machine: the same phase events, run in this process.

`run_local` plays exactly what the Step Functions definition (`infra/jobs.py`) does, stage by
stage: invoke `plan`, read the items it wrote (the Distributed Map's ItemReader), invoke `shard`
for every item on a pool of threads (MaxConcurrency), then `finish`. Any failed shard fails the
run, as a Distributed Map with no tolerated failures does; nothing else is retried.

`invoke` is what receives the events: `direct(stores)` calls `openloc.jobs.sharding.handle` in
process; the local stack passes the export Lambda handler instead, so the phase events cross the
same handler code as in AWS.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openloc.jobs.sharding import Json, ShardedJob, handle, phase_event
from openloc.jobs.stores import JobStores
from openloc.store.objects import ObjectStore

Invoke = Callable[[Json], Json]
# (stage name, stage index, stages, shards done, shards planned)
ProgressCallback = Callable[[str, int, int, int, int], None]


@dataclass(frozen=True)
class StageRun:
    name: str
    shards: int


@dataclass(frozen=True)
class LocalRun:
    run: str
    stages: list[StageRun]
    summary: Json


def direct(stores: JobStores, job: ShardedJob) -> Invoke:
    """Phase events handled in this process with `stores`."""
    return lambda event: handle(job, stores, event)


def new_run_id(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now.astimezone(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def run_local(
    job: ShardedJob,
    state: ObjectStore,
    invoke: Invoke,
    job_input: Mapping[str, Any] | None = None,
    threads: int = 4,
    run: str | None = None,
    started: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> LocalRun:
    """Run every stage of `job`; `state` is the private bucket the plan writes its items to."""
    started = started or datetime.now(UTC)
    run = run or new_run_id("local", started)
    job_input = dict(job_input or {})
    stages: list[StageRun] = []
    summary: Json = {}
    for index, stage in enumerate(job.stages):
        planned = invoke(phase_event(job, "plan", index, run, started, job_input))
        body = state.get(str(planned["items_key"]))
        if body is None:
            raise RuntimeError(f"{job.task}: the plan of stage {index} wrote no items")
        items: list[Json] = json.loads(body)
        done = 0
        if progress is not None:
            progress(stage.name, index, len(job.stages), done, len(items))
        with ThreadPoolExecutor(max_workers=max(1, min(threads, stage.max_concurrency))) as pool:
            futures: list[Future[Json]] = [
                pool.submit(invoke, phase_event(job, "shard", index, run, started, job_input, item=item))
                for item in items
            ]
            pending: set[Future[Json]] = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    error = future.exception()
                    if error is not None:
                        for other in pending:
                            other.cancel()
                        raise error
                    done += 1
                if progress is not None:
                    progress(stage.name, index, len(job.stages), done, len(items))
        stages.append(StageRun(stage.name, len(items)))
        finished_stage = invoke(phase_event(job, "finish", index, run, started, job_input, count=len(items)))
        summary = dict(finished_stage.get("summary") or {})
    return LocalRun(run, stages, summary)
