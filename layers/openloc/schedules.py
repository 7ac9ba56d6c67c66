"""The scheduled jobs, shared by the CDK stack (EventBridge rules) and the local scheduler.

Times are UTC. `minute`/`hour` follow cron: hour None = every hour.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    task: str
    minute: int
    hour: int | None = None
    description: str = ""

    @property
    def cron(self) -> str:
        """EventBridge cron expression (minutes hours day-of-month month day-of-week year)."""
        return f"cron({self.minute} {'*' if self.hour is None else self.hour} * * ? *)"


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("cell_export_full", minute=37, hour=0, description="daily full public cell export"),
    Schedule("cell_export_diff", minute=5, description="hourly differential cell export (previous hour)"),
    Schedule(
        "station_publish",
        minute=7,
        hour=2,
        description="daily privacy-safe Wi-Fi/Bluetooth dumps and offline packs (docs/privacy.md)",
    ),
    Schedule("tiles", minute=15, description="hourly coverage-map tiles (changed tiles only) + PMTiles"),
    Schedule("stats", minute=10, description="hourly stats.json of the daily counters"),
)
