"""`stats` (hourly): `stats.json` from the daily counters of the stats table (`publish.stats`)."""

from __future__ import annotations

from datetime import datetime

from openloc.jobs.stores import JobResult, JobStores
from openloc.publish.stats import METRICS, run_stats

TASK = "stats"


def run(stores: JobStores, now: datetime) -> JobResult:
    document = run_stats(stores.coverage.stat_rows(METRICS), stores.assets, now)
    return JobResult(TASK, summary={"days": len(document.days)})
