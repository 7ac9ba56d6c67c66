"""What the scheduled jobs read and write, built once per process (or in memory for tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openloc.settings import Settings
from openloc.store.cell_source import CellSource, MemoryCellSource
from openloc.store.coverage import CoverageReader, MemoryCoverageStore
from openloc.store.objects import MemoryObjectStore, ObjectStore
from openloc.store.stations import MemoryStationStore, StationStore

if TYPE_CHECKING:
    from openloc.ingest.pipeline import PipelineStores


@dataclass
class JobStores:
    settings: Settings
    stations: StationStore  # full reads for the dumps and packs
    cells: CellSource  # the cell exports' reads (index scans and queries)
    coverage: CoverageReader  # the coverage grid and the daily counters
    assets: ObjectStore  # the public bucket (exports, dumps, packs, tiles, stats, downloads.json)
    # The private bucket: what a job keeps between runs (the tiles' state) and what the shards
    # of a sharded job hand on (`jobs/<task>/<run>/…`).
    state: ObjectStore
    # The aggregation pipeline's stores (a sharded replay aggregates); built on first use.
    pipeline: PipelineStores | None = None

    def pipeline_stores(self) -> PipelineStores:
        if self.pipeline is None:
            from openloc.ingest.pipeline import PipelineStores

            self.pipeline = PipelineStores.from_settings(self.settings)
        return self.pipeline

    @classmethod
    def from_settings(cls, settings: Settings) -> JobStores:
        """The deployed stores: DynamoDB tables and the two S3 buckets named by `settings`."""
        from openloc.store.cell_source import DynamoCellSource
        from openloc.store.coverage import DynamoCoverageStore
        from openloc.store.objects import S3ObjectStore
        from openloc.store.stations import DynamoStationStore

        return cls(
            settings=settings,
            stations=DynamoStationStore.from_settings(settings),
            cells=DynamoCellSource.from_settings(settings),
            coverage=DynamoCoverageStore.from_settings(settings),
            assets=S3ObjectStore.from_settings(settings),
            state=S3ObjectStore.from_settings(settings, bucket=settings.archive_bucket),
        )

    @classmethod
    def in_memory(
        cls,
        settings: Settings | None = None,
        stations: MemoryStationStore | None = None,
        coverage: MemoryCoverageStore | None = None,
        pipeline: PipelineStores | None = None,
    ) -> JobStores:
        """In-process stores (tests, benchmarks); the cells are those of `stations`."""
        stations = stations if stations is not None else MemoryStationStore()
        return cls(
            settings=settings or Settings(),
            stations=stations,
            cells=MemoryCellSource(stations),
            coverage=coverage if coverage is not None else MemoryCoverageStore(),
            assets=MemoryObjectStore(),
            state=MemoryObjectStore(),
            pipeline=pipeline,
        )


@dataclass(frozen=True)
class JobResult:
    """What a job did: `summary` is returned by the handler and logged, `metrics` become
    CloudWatch metrics (name → count)."""

    task: str
    summary: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, int] = field(default_factory=dict)
