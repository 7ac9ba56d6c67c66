"""The `stats` job: daily counters of the `stats` table → `stats.json` in the assets bucket.

The aggregator adds to one item per metric and UTC day (`openloc.ingest.pipeline`). The document lists
every day that has any counter, oldest first, with the day's reports, observations and new
stations per kind, and the running total of stations learned since the first day (the sum of the
`new_*` counters: stations loaded by `openloc import`, transfers or the demo seed are not counted
there, since only the aggregator writes these counters).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field

from openloc.store.objects import ObjectStore

STATS_KEY = "stats.json"
STATS_CACHE = "public, max-age=600"
KINDS = ("wifi", "blue", "cell")
METRICS = ("reports", "observations", *(f"new_{kind}" for kind in KINDS))


class DayStats(BaseModel):
    day: str = Field(description="UTC day, ISO 8601 (YYYY-MM-DD).")
    reports: int = Field(0, description="Reports (one position + what was seen there) aggregated.")
    observations: int = Field(0, description="Station observations aggregated.")
    new_wifi: int = 0
    new_blue: int = 0
    new_cell: int = 0
    wifi: int = Field(0, description="Wi-Fi access points learned up to this day (running total).")
    blue: int = Field(0, description="Bluetooth beacons learned up to this day (running total).")
    cell: int = Field(0, description="Cells learned up to this day (running total).")


class StatsDocument(BaseModel):
    version: int = 1
    updated: str = Field(description="When the document was written (UTC, ISO 8601).")
    days: list[DayStats]


def build_stats(rows: Iterable[tuple[str, str, int]], now: datetime) -> StatsDocument:
    """The document from (metric, day, value) rows; unknown metrics are ignored."""
    by_day: dict[str, dict[str, int]] = {}
    for metric, day, value in rows:
        if metric in METRICS:
            counters = by_day.setdefault(day, {})
            counters[metric] = counters.get(metric, 0) + int(value)
    days: list[DayStats] = []
    totals = dict.fromkeys(KINDS, 0)
    for day in sorted(by_day):
        counters = by_day[day]
        for kind in KINDS:
            totals[kind] += counters.get(f"new_{kind}", 0)
        days.append(DayStats(day=day, **counters, **totals))
    return StatsDocument(updated=now.strftime("%Y-%m-%dT%H:%M:%SZ"), days=days)


def run_stats(rows: Iterable[tuple[str, str, int]], assets: ObjectStore, now: datetime) -> StatsDocument:
    document = build_stats(rows, now)
    assets.put(STATS_KEY, document.model_dump_json().encode(), "application/json", STATS_CACHE)
    return document
