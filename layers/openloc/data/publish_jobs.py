"""The tiles and stats jobs wired to their stores: DynamoDB for input, S3 for output.

The tiles job keeps its state (the cells it last drew) in the private archive bucket; its output
and `stats.json` go to the public assets bucket.
"""

from __future__ import annotations

from datetime import datetime

from openloc.data.stats_job import METRICS, run_stats
from openloc.data.tile_job import TileRunResult, run_tiles
from openloc.data.tiles import CoverageGrid
from openloc.settings import Settings
from openloc.store.aws import client
from openloc.store.coverage import DynamoCoverageStore
from openloc.store.objects import S3ObjectStore


def publish_tiles(settings: Settings, now: datetime) -> TileRunResult:
    grid = CoverageGrid.from_grids(DynamoCoverageStore(settings).grid_cells())
    s3 = client("s3")
    return run_tiles(
        grid, S3ObjectStore(s3, settings.assets_bucket), S3ObjectStore(s3, settings.archive_bucket), now
    )


def publish_stats(settings: Settings, now: datetime) -> int:
    """Write `stats.json`; returns the number of days in it."""
    rows = DynamoCoverageStore(settings).stat_rows(METRICS)
    return len(run_stats(rows, S3ObjectStore(client("s3"), settings.assets_bucket), now).days)
