"""Run the full cell export: stream cells from a DynamoDB Scan into a gzipped CSV object in S3.

Rows are written to a spooled temporary file (memory-bounded) and uploaded with boto3's managed
transfer, which switches to a multipart upload for large files.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from openloc.data.cell_export import export_lines
from openloc.store.models import StationModel
from openloc.store.records import StationRecord
from openloc.store.stations import station_from_item


def scan_cells() -> Iterator[StationRecord]:
    for item in StationModel.scan(StationModel.pk.startswith("cell#")):
        yield station_from_item(item)


def full_export_key(now: datetime) -> str:
    return f"export/MLS-full-cell-export-{now:%Y-%m-%d}T000000.csv.gz"


def run_full_export(s3: Any, bucket: str, now: datetime, cells: Iterator[StationRecord] | None = None) -> str:
    key = full_export_key(now)
    with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as spool:
        with gzip.GzipFile(fileobj=spool, mode="wb", compresslevel=5) as gz:
            for chunk in export_lines(cells if cells is not None else scan_cells()):
                gz.write(chunk)
        spool.seek(0)
        s3.upload_fileobj(
            spool,
            bucket,
            key,
            ExtraArgs={
                "ContentType": "text/csv",
                "ContentEncoding": "gzip",
                "CacheControl": "public, max-age=3600",
            },
        )
    return key
