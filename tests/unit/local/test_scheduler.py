"""The local scheduler: next run times and the EventBridge events it sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from openloc.jobs import cell_export_full
from openloc.jobs.registry import Schedule
from openloc.local.scheduler import next_run, scheduled_event

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_next_run_daily() -> None:
    daily = Schedule("t", minute=37, run=cell_export_full.run, hour=0)
    assert next_run(daily, datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == datetime(
        2026, 11, 23, 0, 37, tzinfo=UTC
    )
    assert next_run(daily, datetime(2026, 11, 23, 0, 37, tzinfo=UTC)) == datetime(
        2026, 11, 24, 0, 37, tzinfo=UTC
    )
    assert next_run(daily, datetime(2026, 12, 31, 12, 0, tzinfo=UTC)) == datetime(
        2027, 1, 1, 0, 37, tzinfo=UTC
    )


def test_next_run_hourly() -> None:
    hourly = Schedule("t", minute=5, run=cell_export_full.run)
    assert next_run(hourly, datetime(2026, 11, 23, 10, 4, 59, tzinfo=UTC)) == datetime(
        2026, 11, 23, 10, 5, tzinfo=UTC
    )
    assert next_run(hourly, datetime(2026, 11, 23, 10, 5, tzinfo=UTC)) == datetime(
        2026, 11, 23, 11, 5, tzinfo=UTC
    )
    assert next_run(hourly, datetime(2026, 11, 23, 23, 30, tzinfo=UTC)) == datetime(
        2026, 11, 24, 0, 5, tzinfo=UTC
    )


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(0, 59),
    st.none() | st.integers(0, 23),
)
def test_next_run_is_strictly_after_and_soon(after: datetime, minute: int, hour: int | None) -> None:
    after = after.replace(tzinfo=UTC)
    run = next_run(Schedule("t", minute=minute, run=cell_export_full.run, hour=hour), after)
    assert after < run <= after + (timedelta(hours=1) if hour is None else timedelta(days=1))
    assert run.minute == minute and run.second == 0 and run.microsecond == 0
    if hour is not None:
        assert run.hour == hour


def test_scheduled_event_shape() -> None:
    event = scheduled_event(Schedule("cell_export_full", 37, cell_export_full.run, 0), NOW, "eu-central-1")
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-11-23T12:00:00Z" and event["region"] == "eu-central-1"
    assert event["resources"] == ["arn:aws:events:eu-central-1:000000000000:rule/openloc-cell_export_full"]
    assert event["detail"] == {}
