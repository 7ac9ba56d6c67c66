"""The job registry: the scheduled jobs and their times."""

from __future__ import annotations

from openloc.jobs.registry import SCHEDULES


def test_schedules_include_tiles_and_stats() -> None:
    tasks = {s.task: s for s in SCHEDULES}
    assert tasks["tiles"].cron == "cron(15 * * * ? *)"
    assert tasks["stats"].cron == "cron(10 * * * ? *)"


def test_station_publish_is_scheduled() -> None:
    from openloc.jobs.registry import SCHEDULES

    assert "station_publish" in {s.task for s in SCHEDULES}
