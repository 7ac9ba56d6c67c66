"""Plain helpers shared by test modules of several packages (fixtures are in conftest.py)."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from openloc.jobs.stores import JobStores
from openloc.model.records import StationRecord
from openloc.model.report import Report
from openloc.settings import Settings
from openloc.store.objects import S3ObjectStore
from openloc.store.stations import MemoryStationStore

# --- the assets bucket of the in-process S3 (the `s3` fixture of conftest.py creates it) ----------


BUCKET = "assets"


# --- cell records and the cell export jobs (tests of store, jobs and ingest) ----------------------


# The cell export tests run at 13:05: the hourly diff then covers [12:00, 13:00).
NOW = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)


def cell(cid: int, **kw: Any) -> StationRecord:
    values: dict[str, Any] = {
        "key": f"cell#lte#262#01#4711#{cid}", "lat": 52.5 + cid * 1e-4, "lon": 13.4, "radius": 800.0,
        "samples": 10, "psc": cid % 504, "created": NOW - timedelta(days=30), "modified": NOW - timedelta(days=2),
    }  # fmt: skip
    values.update(kw)
    return StationRecord(**values)


def export_job(
    job: Any, s3: Any, store: MemoryStationStore, now: datetime, min_samples: int = 3, segments: int = 4
) -> SimpleNamespace:
    """Run a cell export job on `store`'s cells, writing to the in-process S3 bucket."""
    settings = Settings(cell_export_min_samples=min_samples, cell_export_segments=segments)
    stores = JobStores.in_memory(settings, stations=store)
    stores.assets = S3ObjectStore(s3, BUCKET)
    return SimpleNamespace(**job.run(stores, now).summary)


def read_rows(s3: Any, key: str) -> list[list[str]]:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return list(csv.reader(io.StringIO(gzip.decompress(body).decode())))


# --- reports (tests of aggregate and ingest) ------------------------------------------------------


def report(**kw) -> Report:  # type: ignore[no-untyped-def]
    values = {"timestamp": 1, "latitude": 52.5, "longitude": 13.4}
    values.update(kw)
    return Report(**values)
