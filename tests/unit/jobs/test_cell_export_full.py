"""The daily full cell export job: what it exports, the manifest entry, pruning (moto S3)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from openloc.jobs import cell_export_full
from openloc.model.records import StationRecord
from openloc.publish.cell_export import HEADER, full_export_key
from openloc.publish.manifest import read_manifest
from openloc.store.objects import S3ObjectStore
from openloc.store.stations import MemoryStationStore

from tests.unit.support import BUCKET, NOW, cell, export_job, read_rows


def test_full_export_excludes_blocked_and_rare_cells_and_updates_manifest(s3: Any) -> None:
    store = MemoryStationStore()
    good = [cell(i) for i in range(1, 51)]
    blocked = cell(60, block_count=1, block_last=NOW.date().isoformat())  # blocked today
    rare = cell(61, samples=2)
    unpositioned = cell(62, lat=None, lon=None)
    wifi = StationRecord(key="wifi#001a2b000001", lat=1.0, lon=1.0, samples=50)
    store.put_stations([*good, blocked, rare, unpositioned, wifi])
    result = export_job(cell_export_full, s3, store, NOW, min_samples=3, segments=3)
    assert (
        result.key
        == full_export_key(NOW)
        == "exports/cells/full/MLS-full-cell-export-2026-11-23T000000.csv.gz"
    )
    rows = read_rows(s3, result.key)
    assert tuple(rows[0]) == HEADER
    assert sorted(int(r[4]) for r in rows[1:]) == list(range(1, 51)) and result.rows == 50
    head = s3.head_object(Bucket=BUCKET, Key=result.key)
    assert head["ContentType"] == "application/gzip"
    manifest, _ = read_manifest(S3ObjectStore(s3, BUCKET))
    assert manifest is not None
    [entry] = manifest.files
    body = s3.get_object(Bucket=BUCKET, Key=result.key)["Body"].read()
    assert (entry.kind, entry.rows, entry.size) == ("cell-full", 50, len(body))
    assert entry.sha256 == hashlib.sha256(body).hexdigest()


def test_superseded_full_exports_are_deleted(s3: Any) -> None:
    store = MemoryStationStore()
    store.put_stations([cell(1)])
    for day in range(5):
        export_job(cell_export_full, s3, store, NOW + timedelta(days=day))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="exports/cells/full/")["Contents"]]
    assert keys == [full_export_key(NOW + timedelta(days=d)) for d in (2, 3, 4)]
    manifest, _ = read_manifest(S3ObjectStore(s3, BUCKET))
    assert manifest is not None and sorted(f.path for f in manifest.files) == keys
