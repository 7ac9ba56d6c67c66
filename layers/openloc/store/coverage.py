"""Write side of the coverage grid (`datamap` table) and of the daily counters (`stats` table)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from openloc.store.binding import BoundModels

if TYPE_CHECKING:
    from openloc.settings import Settings


class CoverageStore(Protocol):
    def touch_grids(self, cells: Iterable[tuple[str, str]], today: str) -> int:
        """Mark grid cells as seen today; returns how many were written (new or not yet today)."""
        ...

    def add_stats(self, counters: Mapping[str, int], day: str) -> None: ...


class DynamoCoverageStore(BoundModels):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.write_requests = 0

    def touch_grids(self, cells: Iterable[tuple[str, str]], today: str) -> int:
        model = self.models.DatamapModel
        wanted = sorted(set(cells))
        current = {(item.pk, item.grid): item.modified for item in model.batch_get(wanted)} if wanted else {}
        stale = [cell for cell in wanted if current.get(cell) != today]
        with model.batch_write() as batch:
            for shard, grid in stale:
                self.write_requests += 1
                batch.save(model(shard, grid, modified=today))
        return len(stale)

    def add_stats(self, counters: Mapping[str, int], day: str) -> None:
        model = self.models.StatModel
        for metric, value in counters.items():
            if value:
                self.write_requests += 1
                model(metric, day).update(actions=[model.value.add(value)])


class MemoryCoverageStore:
    def __init__(self) -> None:
        self.grids: dict[tuple[str, str], str] = {}
        self.stats: dict[tuple[str, str], int] = {}
        self.write_requests = 0

    def touch_grids(self, cells: Iterable[tuple[str, str]], today: str) -> int:
        stale = [cell for cell in set(cells) if self.grids.get(cell) != today]
        for cell in stale:
            self.write_requests += 1
            self.grids[cell] = today
        return len(stale)

    def add_stats(self, counters: Mapping[str, int], day: str) -> None:
        for metric, value in counters.items():
            if value:
                self.write_requests += 1
                self.stats[(metric, day)] = self.stats.get((metric, day), 0) + value
