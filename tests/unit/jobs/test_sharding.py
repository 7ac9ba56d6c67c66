"""The sharded-job steps (plan → shards → finish) and the in-process executor."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from openloc.jobs.executor import direct, run_local
from openloc.jobs.sharding import (
    JobInputError,
    Json,
    RunContext,
    ShardedJob,
    context_of,
    handle,
    phase_event,
    shards_needed,
    split_evenly,
)
from openloc.jobs.stores import JobStores

STARTED = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


class Squares:
    """Stage 1: one shard per number, each squares it."""

    name = "squares"
    max_concurrency = 3

    def __init__(self, fail_on: int | None = None) -> None:
        self.fail_on = fail_on

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        return [{"n": n} for n in range(int(ctx.param("count")))]

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        if item["n"] == self.fail_on:
            raise RuntimeError(f"shard {item['n']} failed")
        return {"square": item["n"] ** 2}

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        return {"squares": [r["square"] for r in results], "clock": ctx.now.isoformat()}


class Total:
    """Stage 2: reads stage 1's summary; one shard per pair of squares."""

    name = "total"
    max_concurrency = 2

    def plan(self, stores: JobStores, ctx: RunContext, previous: Json) -> list[Json]:
        return [{"values": group} for group in split_evenly(previous["squares"], 2)]

    def shard(self, stores: JobStores, ctx: RunContext, item: Json) -> Json:
        return {"sum": sum(item["values"])}

    def finish(self, stores: JobStores, ctx: RunContext, results: list[Json], previous: Json) -> Json:
        return {"total": sum(r["sum"] for r in results), "clock": previous["clock"]}


def job(fail_on: int | None = None) -> ShardedJob:
    return ShardedJob(
        "sum_of_squares", (Squares(fail_on), Total()), "test job", lambda s: {"Total": s["total"]}
    )


def test_the_executor_runs_every_stage_and_hands_summaries_on() -> None:
    stores = JobStores.in_memory()
    seen: list[tuple[str, int, int]] = []
    run = run_local(
        job(),
        stores.state,
        direct(stores, job()),
        {"time": "2026-11-19T13:05:00Z", "params": {"count": 7}},
        threads=3,
        started=STARTED,
        progress=lambda stage, index, stages, done, planned: seen.append((stage, done, planned)),
    )
    assert run.summary == {"total": sum(n * n for n in range(7)), "clock": "2026-11-19T13:05:00+00:00"}
    assert [(s.name, s.shards) for s in run.stages] == [("squares", 7), ("total", 2)]
    assert seen[0] == ("squares", 0, 7) and ("squares", 7, 7) in seen and seen[-1] == ("total", 2, 2)
    assert list(stores.state.keys("jobs/")) == []  # the last finish removed the run's files
    assert job().result(run.summary).metrics == {"Total": 91}


def test_a_failed_shard_fails_the_run_before_its_finish() -> None:
    stores = JobStores.in_memory()
    with pytest.raises(RuntimeError, match="shard 4 failed"):
        run_local(
            job(fail_on=4), stores.state, direct(stores, job(fail_on=4)), {"params": {"count": 6}}, run="r1"
        )
    assert not any(k.endswith("summary.json") for k in stores.state.keys("jobs/sum_of_squares/r1/"))


def test_finish_refuses_a_stage_with_a_missing_result() -> None:
    stores = JobStores.in_memory()
    events: dict[str, Any] = {"run": "r2", "started": STARTED, "job_input": {"params": {"count": 3}}}
    planned = handle(job(), stores, phase_event(job(), "plan", 0, **events))
    items = json.loads(stores.state.get(planned["items_key"]) or b"")
    for item in items[:2]:  # the third shard never ran
        handle(job(), stores, phase_event(job(), "shard", 0, **events, item=item))
    with pytest.raises(RuntimeError, match="shard 2 left no result"):
        handle(job(), stores, phase_event(job(), "finish", 0, **events, count=planned["count"]))


def test_a_retried_shard_overwrites_its_own_result() -> None:
    stores = JobStores.in_memory()
    events: dict[str, Any] = {"run": "r3", "started": STARTED, "job_input": {"params": {"count": 2}}}
    planned = handle(job(), stores, phase_event(job(), "plan", 0, **events))
    for item in json.loads(stores.state.get(planned["items_key"]) or b""):
        for _attempt in range(2):
            handle(job(), stores, phase_event(job(), "shard", 0, **events, item=item))
    answer = handle(job(), stores, phase_event(job(), "finish", 0, **events, count=2))
    assert answer == {"stage": 0, "done": False, "summary": {}}


@pytest.mark.parametrize(
    "event",
    [
        {"phase": "plan", "task": "sum_of_squares", "stage": 0, "run": ""},
        {"phase": "plan", "task": "sum_of_squares", "stage": 0, "run": "../other"},
        {"phase": "plan", "task": "sum_of_squares", "stage": 5, "run": "r"},
        {"phase": "shard", "task": "sum_of_squares", "stage": 0, "run": "r", "item": "x"},
        {"phase": "reduce", "task": "sum_of_squares", "stage": 0, "run": "r"},
        {"phase": "plan", "task": "sum_of_squares", "stage": 0, "run": "r", "input": {}},  # no count
    ],
)
def test_bad_phase_events_are_refused(event: dict[str, Any]) -> None:
    with pytest.raises(JobInputError):
        handle(job(), JobStores.in_memory(), event)


def test_the_clock_is_the_input_time_else_the_start() -> None:
    base = {"task": "t", "run": "r", "started": "2026-11-20T03:00:00Z"}
    assert context_of({**base, "input": {"time": "2026-11-19T13:05:00Z"}}).now == datetime(
        2026, 11, 19, 13, 5, tzinfo=UTC
    )
    assert context_of({**base, "input": {"time": "not a time"}}).now == STARTED
    assert context_of({**base, "input": None}).params == {}


def test_shard_counts_and_even_splits() -> None:
    assert shards_needed(0, 10) == 1 and shards_needed(10, 10) == 1 and shards_needed(11, 10) == 2
    assert shards_needed(10**12, 1) == 10_000
    groups = split_evenly(list(range(10)), 3)
    assert [len(g) for g in groups] == [4, 3, 3] and [n for g in groups for n in g] == list(range(10))
    assert split_evenly([], 3) == [[]]
