"""The coverage grid (`datamap` table) and the daily counters (`stats` table): written by the
aggregator (`CoverageStore`), read by the tiles and stats jobs (`CoverageReader`)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

from openloc.store.binding import BoundModels

if TYPE_CHECKING:
    from openloc.settings import Settings


class CoverageStore(Protocol):
    def touch_grids(self, cells: Iterable[tuple[str, str]], today: str) -> int:
        """Mark grid cells as seen today; returns how many were written (new or not yet today)."""
        ...

    def add_stats(self, counters: Mapping[str, int], day: str) -> None: ...


class CoverageReader(Protocol):
    def grid_cells(self) -> Iterator[str]:
        """Every grid cell (`"<lat*1000>,<lon*1000>"`) of the datamap."""
        ...

    def grid_segment(self, segment: int, total_segments: int) -> Iterator[str]:
        """The grid cells of one parallel Scan segment of the datamap (segments partition it)."""
        ...

    def approximate_grid_count(self) -> int:
        """About how many grid cells the datamap holds (DynamoDB's item count, ~6 hours old)."""
        ...

    def stat_rows(self, metrics: Iterable[str]) -> Iterator[tuple[str, str, int]]:
        """(metric, day, value) of every day of the given metrics."""
        ...


SHARDS = ("ne", "nw", "se", "sw")  # openloc.geo.datamap.grid_cell


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

    def grid_cells(self) -> Iterator[str]:
        """One Query per shard (paginated), projecting only the sort key: no table Scan."""
        model = self.models.DatamapModel
        for shard in SHARDS:
            for item in model.query(shard, attributes_to_get=["grid"]):
                yield str(item.grid)

    def grid_segment(self, segment: int, total_segments: int) -> Iterator[str]:
        model = self.models.DatamapModel
        for item in model.scan(segment=segment, total_segments=total_segments, attributes_to_get=["grid"]):
            yield str(item.grid)

    def approximate_grid_count(self) -> int:
        return int(self.models.DatamapModel.describe_table().get("ItemCount", 0))

    def stat_rows(self, metrics: Iterable[str]) -> Iterator[tuple[str, str, int]]:
        model = self.models.StatModel
        for metric in metrics:
            for item in model.query(metric):
                yield metric, str(item.day), int(item.value)


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

    def grid_cells(self) -> Iterator[str]:
        yield from sorted(grid for _, grid in self.grids)

    def grid_segment(self, segment: int, total_segments: int) -> Iterator[str]:
        for grid in self.grid_cells():
            if zlib.crc32(grid.encode()) % total_segments == segment:
                yield grid

    def approximate_grid_count(self) -> int:
        return len(self.grids)

    def stat_rows(self, metrics: Iterable[str]) -> Iterator[tuple[str, str, int]]:
        wanted = set(metrics)
        for (metric, day), value in sorted(self.stats.items()):
            if metric in wanted:
                yield metric, day, value
