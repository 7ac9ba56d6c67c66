"""`cell_export_full` (daily): every published cell as one gzipped MLS CSV, listed in downloads.json.

Reads the cells-only `by_area` index with `CELL_EXPORT_SEGMENTS` parallel Scan segments and
streams the rows into a multipart upload (`publish.cell_export`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from openloc.jobs.stores import JobResult, JobStores
from openloc.model.kinds import FileKind
from openloc.publish.cell_export import ExportResult, full_export_key, publish_export, write_export
from openloc.store.cell_source import all_cells

TASK = "cell_export_full"


def export_result(task: str, result: ExportResult) -> JobResult:
    """The job result of a cell export (shared by the full and the diff export)."""
    return JobResult(
        task,
        summary={"key": result.key, "rows": result.rows, "size": result.size},
        metrics={"CellExportsWritten": 1, "CellExportRows": result.rows},
    )


def run(stores: JobStores, now: datetime) -> JobResult:
    now = now.astimezone(UTC)
    settings = stores.settings
    cells = all_cells(stores.cells, settings.cell_export_segments)
    written = write_export(stores.assets, full_export_key(now), cells, now, settings.cell_export_min_samples)
    return export_result(TASK, publish_export(stores.assets, FileKind.CELL_FULL, written, now))
