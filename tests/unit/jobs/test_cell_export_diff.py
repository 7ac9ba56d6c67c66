"""The hourly cell export job: the cells changed in the previous hour (moto S3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from openloc.jobs import cell_export_diff
from openloc.publish.cell_export import HEADER, diff_export_key
from openloc.publish.manifest import read_manifest
from openloc.store.objects import S3ObjectStore
from openloc.store.stations import MemoryStationStore

from tests.unit.support import BUCKET, NOW, cell, export_job, read_rows


def test_diff_export_lists_the_previous_hour(s3: Any) -> None:
    store = MemoryStationStore()
    hour = datetime(2026, 11, 23, 12, tzinfo=UTC)
    store.put_stations([cell(1, modified=hour + timedelta(minutes=5)), cell(2), cell(3, modified=NOW)])
    result = export_job(cell_export_diff, s3, store, NOW)
    assert (
        result.key
        == diff_export_key(NOW)
        == "exports/cells/diff/MLS-diff-cell-export-2026-11-23T130000.csv.gz"
    )
    assert [r[4] for r in read_rows(s3, result.key)[1:]] == ["1"]
    empty = export_job(cell_export_diff, s3, store, NOW + timedelta(hours=5))
    assert read_rows(s3, empty.key) == [list(HEADER)] and empty.rows == 0
    manifest, _ = read_manifest(S3ObjectStore(s3, BUCKET))
    assert manifest is not None and {f.kind for f in manifest.files} == {"cell-diff"}
