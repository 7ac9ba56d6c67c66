"""Reading cells for the exports: only the hour asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openloc.store.cell_source import MemoryCellSource, changed_cells
from openloc.store.stations import MemoryStationStore

from tests.unit.support import cell


def test_changed_cells_reads_only_the_hour() -> None:
    store = MemoryStationStore()
    hour = datetime(2026, 11, 23, 12, tzinfo=UTC)
    inside = [cell(i, modified=hour + timedelta(minutes=i)) for i in range(1, 40)]
    outside = [cell(100, modified=hour - timedelta(seconds=1)), cell(101, modified=hour + timedelta(hours=1))]
    store.put_stations([*inside, *outside])
    found = {r.key for r in changed_cells(MemoryCellSource(store), hour)}
    assert found == {r.key for r in inside}
