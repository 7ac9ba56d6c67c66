"""The one registry of scheduled jobs: what runs, when, and the code that runs it.

Read by the CDK app (one EventBridge rule per job), the local scheduler, the export Lambda
handler (which job an event names) and the CLI. Times are UTC; `minute`/`hour` follow cron:
hour None = every hour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openloc.jobs import cell_export_diff, cell_export_full, station_publish, stats, tiles
from openloc.jobs.stores import JobResult, JobStores

Job = Callable[[JobStores, datetime], JobResult]


@dataclass(frozen=True)
class Schedule:
    task: str
    minute: int
    run: Job
    hour: int | None = None
    description: str = ""

    @property
    def cron(self) -> str:
        """EventBridge cron expression (minutes hours day-of-month month day-of-week year)."""
        return f"cron({self.minute} {'*' if self.hour is None else self.hour} * * ? *)"


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        cell_export_full.TASK, 37, cell_export_full.run, hour=0, description="daily full public cell export"
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
    ),
    Schedule(
        tiles.TASK, 15, tiles.run, description="hourly coverage-map tiles (changed tiles only) + PMTiles"
    ),
    Schedule(stats.TASK, 10, stats.run, description="hourly stats.json of the daily counters"),
)
BY_TASK = {schedule.task: schedule for schedule in SCHEDULES}


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
