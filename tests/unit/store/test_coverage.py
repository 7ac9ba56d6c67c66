"""The in-memory coverage store: grid cells and daily counters."""

from __future__ import annotations

from openloc.store.coverage import MemoryCoverageStore


def test_memory_coverage_reader() -> None:
    coverage = MemoryCoverageStore()
    coverage.touch_grids([("ne", "52522,13413"), ("sw", "-1,-2")], "2026-11-23")
    coverage.add_stats({"reports": 3, "other": 1}, "2026-11-23")
    assert sorted(coverage.grid_cells()) == ["-1,-2", "52522,13413"]
    assert list(coverage.stat_rows(["reports"])) == [("reports", "2026-11-23", 3)]
