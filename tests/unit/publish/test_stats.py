"""stats.json: days with running totals, and the file written with its headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from openloc.publish.stats import STATS_CACHE, STATS_KEY, build_stats, run_stats
from openloc.store.objects import MemoryObjectStore

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_stats_days_sorted_with_running_totals() -> None:
    rows = [
        ("observations", "2026-11-22", 40),
        ("new_wifi", "2026-11-22", 3),
        ("reports", "2026-11-21", 2),
        ("new_wifi", "2026-11-21", 5),
        ("new_cell", "2026-11-22", 1),
        ("station_new", "2026-11-22", 99),  # not a published metric
    ]
    document = build_stats(rows, NOW)
    assert [d.day for d in document.days] == ["2026-11-21", "2026-11-22"]
    first, second = document.days
    assert (first.reports, first.new_wifi, first.wifi, first.cell) == (2, 5, 5, 0)
    assert (second.observations, second.new_wifi, second.wifi, second.cell) == (40, 3, 8, 1)
    assert document.updated == "2026-11-23T12:00:00Z"


def test_stats_job_writes_json_with_headers() -> None:
    store = MemoryObjectStore()
    run_stats([("reports", "2026-11-23", 7)], store, NOW)
    stored = store.objects[STATS_KEY]
    assert (stored.content_type, stored.cache_control) == ("application/json", STATS_CACHE)
    assert json.loads(stored.body)["days"][0]["reports"] == 7
