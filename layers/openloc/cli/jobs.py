"""`openloc jobs list|run`: every job of `openloc.jobs.registry`, run by hand.

    openloc jobs list
    openloc jobs run NAME [--local | --deployed | --single] [--time ISO] [--param KEY=VALUE ...]

- `--local` (the default): a sharded job runs through the in-process executor
  (`openloc.jobs.executor`: the state machine's plan → shards → finish, shards on `--threads`
  threads) against the configured tables and buckets — point `AWS_ENDPOINT_URL` at `make run`'s
  moto server to run it on the local stack; a job without a sharded form runs once in process;
- `--single`: the job's single-process run (what a deployment with `openloc:sharded_jobs=false`
  runs), the same code as the export function's scheduled path;
- `--deployed`: starts the deployed state machine `<stack>-<task>` (`--stack`, default
  `OPENLOC_STACK` or `OpenLoc`) and follows it until it ends, or invokes the deployed export
  function for a job without one.

Each prints a progress line on stderr (stage, shards done of planned) and ends with the job's
summary as JSON on stdout. `--time` replays a past schedule (e.g. the diff export of a missed
hour): the job's clock is that time, as for a re-sent EventBridge event.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

DEFAULT_STACK = "OpenLoc"
POLL_SECONDS = 5.0


class Progress:
    """One redrawn status line: the stage and its shards done of planned, and the time taken."""

    def __init__(self, out: TextIO | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self.started = clock()
        self.stages: dict[str, tuple[int, int]] = {}

    def __call__(self, stage: str, index: int, stages: int, done: int, planned: int) -> None:
        self.stages[stage] = (done, planned)
        if self.out is None:
            return
        width = 30
        filled = width * done // planned if planned else width
        self.out.write(
            f"\r[{index + 1}/{stages} {stage:<8}] [{'#' * filled}{'.' * (width - filled)}] "
            f"{done}/{planned} shards, {self.clock() - self.started:6.1f} s"
        )
        if done == planned:
            self.out.write("\n")
        self.out.flush()


@dataclass
class JobRun:
    task: str
    mode: str
    summary: dict[str, Any]
    seconds: float
    stages: dict[str, int] = field(default_factory=dict)  # stage → shards

    def report(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "mode": self.mode,
            "seconds": round(self.seconds, 1),
            "stages": self.stages,
            **self.summary,
        }


def run_local(task: str, job_input: Mapping[str, Any], threads: int, out: TextIO | None) -> JobRun:
    """A sharded job through the in-process executor (or a plain job in process)."""
    from openloc.jobs.executor import direct
    from openloc.jobs.executor import run_local as execute
    from openloc.jobs.registry import BY_TASK, SHARDED_JOBS, job_time
    from openloc.jobs.stores import JobStores
    from openloc.settings import get_settings

    stores = JobStores.from_settings(get_settings())
    started = time.monotonic()
    job = SHARDED_JOBS.get(task)
    if job is None:
        result = BY_TASK[task].run(stores, job_time(dict(job_input), None))
        return JobRun(task, "local", result.summary, time.monotonic() - started)
    progress = Progress(out)
    run = execute(job, stores.state, direct(stores, job), job_input, threads=threads, progress=progress)
    stages = {stage.name: stage.shards for stage in run.stages}
    return JobRun(task, "local", run.summary, time.monotonic() - started, stages)


def run_single(task: str, job_input: Mapping[str, Any]) -> JobRun:
    from openloc.jobs.registry import BY_TASK, job_time
    from openloc.jobs.stores import JobStores
    from openloc.settings import get_settings

    started = time.monotonic()
    result = BY_TASK[task].run(JobStores.from_settings(get_settings()), job_time(dict(job_input), None))
    return JobRun(task, "single", result.summary, time.monotonic() - started)


def state_machine_arn(sfn: Any, stack: str, task: str) -> str | None:
    wanted = f"{stack}-{task.replace('_', '-')}"
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == wanted:
                return str(machine["stateMachineArn"])
    return None


def follow_execution(
    sfn: Any,
    arn: str,
    stages: list[str],
    progress: Progress,
    poll: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll an execution until it ends, drawing its map runs' progress; its description."""
    while True:
        execution = sfn.describe_execution(executionArn=arn)
        runs = sorted(
            sfn.list_map_runs(executionArn=arn).get("mapRuns", []), key=lambda r: str(r["startDate"])
        )
        if runs:
            index = len(runs) - 1
            counts = sfn.describe_map_run(mapRunArn=runs[index]["mapRunArn"]).get("itemCounts", {})
            stage = stages[index] if index < len(stages) else f"stage {index + 1}"
            progress(stage, index, len(stages), int(counts.get("succeeded", 0)), int(counts.get("total", 0)))
        if execution["status"] != "RUNNING":
            return dict(execution)
        sleep(poll)


def run_deployed(task: str, job_input: Mapping[str, Any], stack: str, out: TextIO | None) -> JobRun:
    from openloc.jobs.registry import SHARDED_JOBS
    from openloc.store.aws import client

    started = time.monotonic()
    job = SHARDED_JOBS.get(task)
    if job is None:
        return invoke_export(task, job_input, stack, started)
    sfn = client("stepfunctions")
    arn = state_machine_arn(sfn, stack, task)
    if arn is None:
        raise LookupError(f"no state machine {stack}-{task.replace('_', '-')} (is the stack deployed?)")
    name = f"manual-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(dict(job_input)))
    if out is not None:
        out.write(f"started {execution['executionArn']}\n")
    ended = follow_execution(sfn, execution["executionArn"], [s.name for s in job.stages], Progress(out))
    if ended["status"] != "SUCCEEDED":
        reason = f"{ended.get('error', '')} {ended.get('cause', '')}".strip()
        raise RuntimeError(f"{task} execution {name} ended {ended['status']}: {reason}")
    output = json.loads(ended.get("output") or "{}")
    summary = (output.get("result") or {}).get("summary") or {}
    return JobRun(task, "deployed", dict(summary), time.monotonic() - started)


def invoke_export(task: str, job_input: Mapping[str, Any], stack: str, started: float) -> JobRun:
    """A job without a state machine: one synchronous invocation of the deployed export function."""
    from openloc.store.aws import client

    lambda_client = client("lambda")
    function = None
    for page in lambda_client.get_paginator("list_functions").paginate():
        for candidate in page["Functions"]:
            if candidate["FunctionName"].startswith(f"{stack}-") and str(
                candidate.get("Description", "")
            ).startswith("OpenLoc export:"):
                function = candidate["FunctionName"]
    if function is None:
        raise LookupError(f"no OpenLoc export function in stack {stack}")
    detail = {"task": task, **({"time": job_input["time"]} if job_input.get("time") else {})}
    response = lambda_client.invoke(FunctionName=function, Payload=json.dumps({"detail": detail}).encode())
    payload = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        raise RuntimeError(f"{task} failed: {payload}")
    return JobRun(task, "deployed", dict(payload), time.monotonic() - started)


def job_input(time_value: str, params: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for param in params:
        key, separator, value = param.partition("=")
        if not separator or not key:
            raise ValueError(f"--param takes KEY=VALUE, got {param!r}")
        values[key] = value
    result: dict[str, Any] = {}
    if time_value:
        result["time"] = time_value
    if values:
        result["params"] = values
    return result


def execute(task: str, mode: str, inputs: Mapping[str, Any], threads: int, stack: str, quiet: bool) -> int:
    out = None if quiet else sys.stderr
    if mode == "deployed":
        run = run_deployed(task, inputs, stack, out)
    elif mode == "single":
        run = run_single(task, inputs)
    else:
        run = run_local(task, inputs, threads, out)
    print(json.dumps(run.report(), indent=2, default=str))
    return 0


def _list(_args: argparse.Namespace) -> int:
    from openloc.jobs.registry import ON_DEMAND, SCHEDULES

    for schedule in SCHEDULES:
        stages = " → ".join(s.name for s in schedule.sharded.stages) if schedule.sharded else "single run"
        print(f"{schedule.task:<18} {schedule.cron:<22} {stages:<28} {schedule.description}")
    for job in ON_DEMAND:
        stages = " → ".join(s.name for s in job.stages)
        print(f"{job.task:<18} {'on demand':<22} {stages:<28} {job.description}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from openloc.jobs.registry import BY_TASK, SHARDED_JOBS

    if args.task not in BY_TASK and args.task not in SHARDED_JOBS:
        print(f"openloc jobs run: unknown job {args.task!r}; see `openloc jobs list`", file=sys.stderr)
        return 2
    if args.mode == "single" and args.task not in BY_TASK:
        print(f"openloc jobs run: {args.task} has no single run", file=sys.stderr)
        return 2
    try:
        inputs = job_input(args.time, args.param)
    except ValueError as error:
        print(f"openloc jobs run: {error}", file=sys.stderr)
        return 2
    return execute(args.task, args.mode, inputs, args.threads, args.stack, args.quiet)


def add_mode_arguments(parser: argparse.ArgumentParser, single: bool = True) -> None:
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument(
        "--local",
        dest="mode",
        action="store_const",
        const="local",
        help="run the shards in this process (in-process executor) against the configured tables (default)",
    )
    modes.add_argument(
        "--deployed",
        dest="mode",
        action="store_const",
        const="deployed",
        help="start the deployed state machine",
    )
    if single:
        modes.add_argument(
            "--single",
            dest="mode",
            action="store_const",
            const="single",
            help="the single-process run, no shards",
        )
    parser.set_defaults(mode="local")
    parser.add_argument("--threads", type=int, default=4, help="shards in flight with --local (default 4)")
    parser.add_argument(
        "--stack",
        default=os.environ.get("OPENLOC_STACK", DEFAULT_STACK),
        help="the deployed stack's name with --deployed (default OPENLOC_STACK or OpenLoc)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = commands.add_parser(
        "jobs", help="list the jobs, or run one by hand (locally sharded, deployed, single)"
    )
    actions = jobs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every job: schedule (UTC), stages, description")
    listing.set_defaults(func=_list)
    run = actions.add_parser(
        "run", help="run one job now against the configured tables and buckets (AWS_ENDPOINT_URL, *_TABLE)"
    )
    run.add_argument("task", help="the job's name, e.g. cell_export_full")
    run.add_argument("--time", default="", help="the job's clock, ISO 8601 UTC (default: now)")
    run.add_argument(
        "--param", action="append", default=[], help="KEY=VALUE of the job's input params; repeat"
    )
    add_mode_arguments(run)
    run.set_defaults(func=_run)
