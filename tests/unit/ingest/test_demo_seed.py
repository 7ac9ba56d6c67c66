"""The demo seed: deterministic stations, keys, coverage and stats."""

from __future__ import annotations

from datetime import UTC, datetime

from openloc.ingest.demo_seed import (
    CENTER,
    DEMO_CELLS,
    STATS_DAYS,
    WIFI_COUNT,
    demo_area,
    demo_coverage,
    demo_stations,
    demo_stats,
    seed_demo,
)
from openloc.publish.tiles import CoverageGrid, tile_for
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.coverage import MemoryCoverageStore
from openloc.store.stations import MemoryStationStore

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_demo_stations_deterministic() -> None:
    first, second = demo_stations(NOW), demo_stations(NOW)
    assert first == second
    keys = [r.key for r in first]
    assert len(keys) == len(set(keys)) == WIFI_COUNT + 6 + len(DEMO_CELLS)
    assert all(r.positioned for r in first)
    assert demo_area(NOW).key == DEMO_CELLS[0].area_key


def test_seed_demo_fills_stores() -> None:
    stations, keys = MemoryStationStore(), MemoryApiKeyStore()
    count = seed_demo(stations, keys, NOW)
    assert count == len(list(stations.scan_stations())) == WIFI_COUNT + 6 + len(DEMO_CELLS)
    assert keys.get("test") is not None
    assert list(stations.areas) == [DEMO_CELLS[0].area_key]


def test_demo_coverage_is_deterministic_and_local() -> None:
    cells = demo_coverage()
    assert cells == demo_coverage() and len(cells) > 500
    grid = CoverageGrid.from_grids(grid for _, grid in cells)
    lat_i, lon_i = grid.cells()
    assert abs(lat_i.mean() / 1000 - CENTER[0]) < 0.05 and abs(lon_i.mean() / 1000 - CENTER[1]) < 0.05
    assert tile_for(*CENTER, 13) in {
        tile_for(la / 1000, lo / 1000, 13) for la, lo in zip(lat_i, lon_i, strict=True)
    }


def test_seed_with_coverage_writes_grid_and_stats() -> None:
    coverage = MemoryCoverageStore()
    seed_demo(MemoryStationStore(), MemoryApiKeyStore(), NOW, coverage=coverage)
    assert len(coverage.grids) == len(demo_coverage())
    days = {day for _, day in coverage.stats}
    assert len(days) == STATS_DAYS and max(days) == "2026-11-23"
    assert demo_stats(NOW) == demo_stats(NOW)
