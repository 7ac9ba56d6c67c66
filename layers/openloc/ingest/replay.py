"""Replay archived observations (`observations/…/*.jsonl.gz` in S3) through the aggregation
pipeline. Archive objects are not rewritten.

Two uses:
- rebuild (default): every report is aggregated again, e.g. into fresh tables after an algorithm
  change (replaying into the live tables would count the observations twice);
- `as_messages`: each object is treated as the SQS message it archived (its name is the message
  id): messages already aggregated are skipped and a partially applied one (a dead-lettered
  message) only adds what its stations have not merged yet, so the live tables stay exact.

Retention: objects older than `retention_days` (ARCHIVE_RETENTION_DAYS, default one year; 0 =
the archive is kept forever and nothing is skipped) and
reports whose own timestamp is older are skipped and counted, even if the S3 lifecycle rule has
not removed them yet (it runs about once a day), so expired data never comes back into the tables.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

from pydantic import TypeAdapter, ValidationError

from openloc.ingest.pipeline import PipelineStores, process_reports
from openloc.model.report import Report
from openloc.store.archive import Archive, expired, message_id_of

_REPORT = TypeAdapter(Report)


def parse_location(location: str, default_bucket: str) -> tuple[str, str]:
    """`s3://bucket/prefix` or a bare prefix of the archive bucket → (bucket, prefix)."""
    if location.startswith("s3://"):
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        return bucket, prefix
    return default_bucket, location


@dataclass
class ReplayResult:
    objects: int = 0
    reports: int = 0
    invalid: int = 0
    stations_written: int = 0
    skipped: int = 0  # objects whose message was already aggregated (`as_messages` only)
    expired_objects: int = 0
    expired_reports: int = 0


def _progress(out: TextIO, done: int, total: int, result: ReplayResult) -> None:
    width = 30
    filled = width * done // max(total, 1)
    out.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} objects, "
        f"{result.reports} reports, {result.stations_written} station writes"
    )
    out.flush()


def replayable_keys(
    source: Archive, prefix: str, start: datetime, retention_days: int
) -> tuple[list[str], int]:
    """The archive objects under `prefix` in key order, without those past the retention; and
    how many were left out as expired."""
    forever = retention_days <= 0  # the archive keeps everything: nothing expires
    all_keys = sorted(source.keys(prefix))
    keys = [key for key in all_keys if forever or not expired(key, start, retention_days)]
    return keys, len(all_keys) - len(keys)


def oldest_report_ms(start: datetime, retention_days: int) -> float:
    return 0.0 if retention_days <= 0 else (start - timedelta(days=retention_days)).timestamp() * 1000


def replay_object(
    source: Archive,
    key: str,
    stores: PipelineStores,
    now: datetime,
    result: ReplayResult,
    as_messages: bool,
    oldest_ms: float,
) -> None:
    """Aggregate one archive object's reports again (counted into `result`)."""
    reports = []
    for raw in source.read(key):
        try:
            report = _REPORT.validate_python(raw)
        except ValidationError:
            result.invalid += 1
            continue
        if report.timestamp < oldest_ms:
            result.expired_reports += 1
            continue
        reports.append(report)
    if reports:
        message_id = message_id_of(key) if as_messages else None
        batch = process_reports(reports, stores, now, message_id=message_id, archive=False)
        result.skipped += batch.duplicate
        result.reports += 0 if batch.duplicate else batch.reports
        result.stations_written += batch.stations_written
    result.objects += 1


def replay(
    source: Archive,
    prefix: str,
    stores: PipelineStores,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    out: TextIO = sys.stderr,
    as_messages: bool = False,
    retention_days: int = 365,
) -> ReplayResult:
    start = now()
    oldest_ms = oldest_report_ms(start, retention_days)
    keys, expired_objects = replayable_keys(source, prefix, start, retention_days)
    result = ReplayResult(expired_objects=expired_objects)
    _progress(out, 0, len(keys), result)
    for index, key in enumerate(keys, start=1):
        replay_object(source, key, stores, now(), result, as_messages, oldest_ms)
        _progress(out, index, len(keys), result)
    out.write("\n")
    return result
