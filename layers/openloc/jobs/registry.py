"""The one registry of jobs: what runs, when, and the code that runs it.

Read by the CDK app (one EventBridge rule per scheduled job, one state machine per sharded job),
the local scheduler, the export Lambda handler (which job an event names) and the CLI. Times are
UTC; `minute`/`hour` follow cron: hour None = every hour.

A scheduled job has a single-run form (`run`, one process) and may have a sharded form
(`sharded`, `openloc.jobs.sharding`): in AWS the rule of a sharded job starts its state machine,
locally the scheduler runs it through the in-process executor. `ON_DEMAND` are the sharded jobs
an operator starts by hand (a bulk import, a replay of the archive).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openloc.jobs import (
    bulk_import,
    cell_export_diff,
    cell_export_full,
    replay,
    station_publish,
    stats,
    tiles,
)
from openloc.jobs.sharding import ShardedJob
from openloc.jobs.stores import JobResult, JobStores

Job = Callable[[JobStores, datetime], JobResult]


@dataclass(frozen=True)
class Schedule:
    task: str
    minute: int
    run: Job
    hour: int | None = None
    description: str = ""
    sharded: ShardedJob | None = None

    @property
    def cron(self) -> str:
        """EventBridge cron expression (minutes hours day-of-month month day-of-week year)."""
        return f"cron({self.minute} {'*' if self.hour is None else self.hour} * * ? *)"


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        cell_export_full.TASK,
        37,
        cell_export_full.run,
        hour=0,
        description="daily full public cell export",
        sharded=cell_export_full.SHARDED,
    ),
    Schedule(
        cell_export_diff.TASK,
        5,
        cell_export_diff.run,
        description="hourly differential cell export (previous hour)",
    ),
    Schedule(
        station_publish.TASK,
        7,
        station_publish.run,
        hour=2,
        description="daily privacy-safe Wi-Fi/Bluetooth dumps and offline packs (docs/privacy.md)",
        sharded=station_publish.SHARDED,
    ),
    Schedule(
        tiles.TASK,
        15,
        tiles.run,
        description="hourly coverage-map tiles (changed tiles only) + PMTiles",
        sharded=tiles.SHARDED,
    ),
    Schedule(stats.TASK, 10, stats.run, description="hourly stats.json of the daily counters"),
)
BY_TASK = {schedule.task: schedule for schedule in SCHEDULES}
ON_DEMAND: tuple[ShardedJob, ...] = (bulk_import.SHARDED, replay.SHARDED)
SHARDED_JOBS: dict[str, ShardedJob] = {
    **{s.task: s.sharded for s in SCHEDULES if s.sharded is not None},
    **{job.task: job for job in ON_DEMAND},
}


def schedule_for(detail: Mapping[str, Any] | None, resources: Sequence[str]) -> Schedule | None:
    """The job an EventBridge event names: `detail.task`, else the rule name (`<prefix>-<task>`,
    underscores or dashes) at the end of one of its `resources` ARNs."""
    task = (detail or {}).get("task")
    if isinstance(task, str) and task in BY_TASK:
        return BY_TASK[task]
    for arn in resources:
        rule = str(arn).rsplit("/", 1)[-1]
        for name, schedule in BY_TASK.items():
            if rule.endswith((name, name.replace("_", "-"))):
                return schedule
    return None


def job_time(detail: Mapping[str, Any] | None, event_time: str | None) -> datetime:
    """The job's clock: `detail.time` (an operator's re-run), else the event's scheduled `time`,
    else now (UTC). A retried invocation of the same event writes the same files."""
    for value in ((detail or {}).get("time"), event_time):
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)
