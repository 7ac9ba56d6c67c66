"""`tiles` (hourly): the coverage map's PNG pyramid and PMTiles archive, changed tiles only.

Input: every grid cell of the datamap table. The tile set's state (the cells drawn last time)
stays in the private bucket; the tiles go to the public one (`publish.tile_set`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from openloc.jobs.stores import JobResult, JobStores

TASK = "tiles"


def run(stores: JobStores, now: datetime) -> JobResult:
    from openloc.publish.tile_set import run_tiles  # deferred: numpy, Pillow and pmtiles
    from openloc.publish.tiles import CoverageGrid

    grid = CoverageGrid.from_grids(stores.coverage.grid_cells())
    tiles = run_tiles(grid, stores.assets, stores.state, now)
    return JobResult(
        TASK,
        summary=dataclasses.asdict(tiles),
        metrics={"TilesRendered": tiles.rendered, "TilesWritten": tiles.written},
    )
