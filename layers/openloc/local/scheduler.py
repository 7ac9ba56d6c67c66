"""Play EventBridge scheduled rules at the times of `openloc.jobs.registry` (UTC).

A job with a sharded form runs as its state machine would (the rule starts it in AWS): the
in-process executor (`openloc.jobs.executor`) sends the phase events to the export handler.
The others get a "Scheduled Event", as their rule invokes the export function."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from openloc.jobs.registry import SCHEDULES, Schedule
from openloc.local.functions import Handler, invoke
from openloc.observability import logger


def next_run(schedule: Schedule, after: datetime) -> datetime:
    """The first time strictly after `after` matching the schedule's minute (and hour)."""
    candidate = after.replace(second=0, microsecond=0, minute=schedule.minute)
    step = timedelta(hours=1) if schedule.hour is None else timedelta(days=1)
    if schedule.hour is not None:
        candidate = candidate.replace(hour=schedule.hour)
    while candidate <= after:
        candidate += step
    return candidate


def scheduled_event(
    schedule: Schedule, when: datetime, region: str, rule_prefix: str = "openloc"
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:000000000000:rule/{rule_prefix}-{schedule.task}"],
        "detail": {},
    }


class Scheduler:
    def __init__(
        self, handler: Handler, region: str, schedules: tuple[Schedule, ...] = SCHEDULES, threads: int = 2
    ) -> None:
        self.handler = handler
        self.threads = threads  # the executor's shards in flight (Distributed Map's MaxConcurrency)
        self.region = region
        self.schedules = schedules
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def run_now(self, schedule: Schedule) -> Any:
        """Run one job now; its summary (as the export function or the state machine returns it)."""
        now = datetime.now(UTC)
        if schedule.sharded is None:
            return invoke(self.handler, "export", scheduled_event(schedule, now, self.region))
        from openloc.jobs.executor import run_local
        from openloc.settings import get_settings
        from openloc.store.objects import S3ObjectStore

        settings = get_settings()
        state = S3ObjectStore.from_settings(settings, bucket=settings.archive_bucket)
        run = run_local(
            schedule.sharded,
            state,
            lambda event: dict(invoke(self.handler, "export", event)),
            {"time": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
            threads=self.threads,
            started=now,
        )
        return {"task": schedule.task, **run.summary}

    def _run(self) -> None:
        due = {s: next_run(s, datetime.now(UTC)) for s in self.schedules}
        while not self._stop.is_set():
            now = datetime.now(UTC)
            for schedule, when in due.items():
                if when <= now:
                    try:
                        self.run_now(schedule)
                    except Exception:
                        logger.exception("scheduled task failed", extra={"task": schedule.task})
                    due[schedule] = next_run(schedule, now)
            self._stop.wait(min(30.0, max(1.0, (min(due.values()) - now).total_seconds())))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
