"""`cell_export_diff` (hourly): the cells changed in the last complete hour, as a gzipped MLS CSV.

Reads only that hour's partitions of the `by_changed_hour` index (no Scan); the file is named with
the run's hour (a run at 13:05 writes `…T130000` with the cells changed in [12:00, 13:00)).
"""

from __future__ import annotations

from datetime import UTC, datetime

from openloc.jobs.cell_export_full import export_result
from openloc.jobs.stores import JobResult, JobStores
from openloc.model.kinds import FileKind
from openloc.publish.cell_export import diff_export_key, publish_export, write_export
from openloc.store.cell_source import changed_cells
from openloc.store.change_feed import previous_hour

TASK = "cell_export_diff"


def run(stores: JobStores, now: datetime) -> JobResult:
    now = now.astimezone(UTC)
    cells = changed_cells(stores.cells, previous_hour(now))
    written = write_export(
        stores.assets, diff_export_key(now), cells, now, stores.settings.cell_export_min_samples
    )
    return export_result(TASK, publish_export(stores.assets, FileKind.CELL_DIFF, written, now))
