"""`openloc jobs list|run`: the scheduled jobs of `openloc.jobs.registry`, run by hand.

`run` runs one job in this process against the configured tables and buckets (the same code the
export Lambda runs; point `AWS_ENDPOINT_URL` at `make run`'s moto server to run it locally) and
prints its summary as JSON. `--time` replays a past schedule (e.g. the diff export of a missed
hour): the job's clock is that time, as for a re-sent EventBridge event.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime


def _list(_args: argparse.Namespace) -> int:
    from openloc.jobs.registry import SCHEDULES

    for schedule in SCHEDULES:
        print(f"{schedule.task:<18} {schedule.cron:<22} {schedule.description}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from openloc.jobs.registry import BY_TASK, job_time
    from openloc.jobs.stores import JobStores
    from openloc.settings import get_settings

    schedule = BY_TASK.get(args.task)
    if schedule is None:
        print(f"openloc jobs run: unknown job {args.task!r}; see `openloc jobs list`")
        return 2
    now = job_time({"time": args.time} if args.time else None, datetime.now(UTC).isoformat())
    result = schedule.run(JobStores.from_settings(get_settings()), now)
    print(json.dumps({"task": result.task, **result.summary}, indent=2, default=str))
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = commands.add_parser("jobs", help="list the scheduled jobs, or run one by hand")
    actions = jobs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every scheduled job with its schedule (UTC)")
    listing.set_defaults(func=_list)
    run = actions.add_parser(
        "run", help="run one job now against the configured tables and buckets (AWS_ENDPOINT_URL, *_TABLE)"
    )
    run.add_argument("task", help="the job's name, e.g. cell_export_full")
    run.add_argument("--time", default="", help="the job's clock, ISO 8601 UTC (default: now)")
    run.set_defaults(func=_run)
