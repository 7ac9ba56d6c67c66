"""The scheduled cell exports: daily full and hourly differential, gzipped MLS CSV into S3.

Full (`exports/cells/full/MLS-full-cell-export-<YYYY-MM-DD>T000000.csv.gz`): a parallel Scan of
the cells-only `by_area` index, `segments` threads, streamed row by row through gzip into an S3
multipart upload — memory is one part buffer plus a few Scan pages, whatever the table size.

Diff (`exports/cells/diff/MLS-diff-cell-export-<YYYY-MM-DD>T<HH>0000.csv.gz`): the cells whose
last change falls in the hour before the file's timestamp, read from the `by_changed_hour`
index (store.change_feed) — no Scan. A run at 13:05 writes `…T130000` with the cells changed in
[12:00, 13:00). A diff lists changed cells that are still published; a cell blocked or dropped
in that hour is simply absent (as in MLS's diffs).

After each upload the file is added to `downloads.json` (data.manifest); full exports superseded
there are deleted, old diffs expire by the bucket's lifecycle rule on `exports/cells/diff/`.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from openloc.data.cell_export import export_lines, exportable
from openloc.data.manifest import DownloadFile, delete_dropped, update_manifest
from openloc.data.multipart import DEFAULT_PART_SIZE, MultipartWriter
from openloc.data.parallel import flatten, merged_batches
from openloc.store.cell_source import CellSource
from openloc.store.change_feed import hour_partitions, previous_hour
from openloc.store.records import StationRecord

FULL_PREFIX = "exports/cells/full/"
DIFF_PREFIX = "exports/cells/diff/"
CONTENT_TYPE = "application/gzip"  # served as a file to download, not transparently decoded
CACHE_CONTROL = "public, max-age=3600"
DEFAULT_MIN_SAMPLES = 3
DEFAULT_SEGMENTS = 4


def full_export_key(now: datetime) -> str:
    return f"{FULL_PREFIX}MLS-full-cell-export-{now:%Y-%m-%d}T000000.csv.gz"


def diff_export_key(now: datetime) -> str:
    return f"{DIFF_PREFIX}MLS-diff-cell-export-{now:%Y-%m-%dT%H}0000.csv.gz"


@dataclass(frozen=True)
class ExportResult:
    key: str
    rows: int
    size: int
    sha256: str
    parts: int
    deleted: int = 0  # superseded full exports removed


class _Counter:
    def __init__(self) -> None:
        self.rows = 0


def _published(
    records: Iterable[StationRecord], now: datetime, min_samples: int, counter: _Counter
) -> Iterator[StationRecord]:
    today = now.date()
    for record in records:
        if exportable(record, today, min_samples):
            counter.rows += 1
            yield record


def write_export(
    s3: Any,
    bucket: str,
    key: str,
    records: Iterable[StationRecord],
    now: datetime,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    part_size: int = DEFAULT_PART_SIZE,
) -> ExportResult:
    """Stream the published `records` as a gzipped CSV into `bucket/key`."""
    counter = _Counter()
    writer = MultipartWriter(s3, bucket, key, part_size, CONTENT_TYPE, CACHE_CONTROL)
    # mtime fixed to the export time: the same rows give the same bytes (and SHA-256).
    with writer, gzip.GzipFile(fileobj=writer, mode="wb", compresslevel=6, mtime=int(now.timestamp())) as gz:
        for chunk in export_lines(_published(records, now, min_samples, counter)):
            gz.write(chunk)
    result = writer.result
    assert result is not None
    return ExportResult(key, counter.rows, result.size, result.sha256, result.parts)


def _publish(s3: Any, bucket: str, kind: str, result: ExportResult, now: datetime) -> ExportResult:
    entry = DownloadFile(
        kind=kind,
        path=result.key,
        region="world",
        format="csv.gz",
        size=result.size,
        rows=result.rows,
        sha256=result.sha256,
        created=now,
    )
    update = update_manifest(s3, bucket, [entry], now=now)
    # Only this job's own kind: other jobs decide about their files.
    superseded = [f for f in update.dropped if f.kind == "cell-full" and f.path.startswith(FULL_PREFIX)]
    deleted = delete_dropped(s3, bucket, superseded) if kind == "cell-full" else 0
    return ExportResult(result.key, result.rows, result.size, result.sha256, result.parts, deleted)


def all_cells(source: CellSource, segments: int = DEFAULT_SEGMENTS) -> Iterator[StationRecord]:
    """Every cell, read by `segments` parallel Scan segments."""
    producers = [partial(source.scan_cells, s, segments) for s in range(segments)]
    return flatten(merged_batches(producers))


def changed_cells(source: CellSource, hour_start: datetime, threads: int = 4) -> Iterator[StationRecord]:
    """Cells whose last change falls in the hour starting at `hour_start`."""
    partitions = hour_partitions(hour_start)
    end = hour_start + timedelta(hours=1)
    groups = [partitions[i::threads] for i in range(threads)]

    def produce(group: list[str]) -> Iterator[StationRecord]:
        for partition in group:
            for record in source.cells_changed(partition):
                # The index is eventually consistent: a row written since may already be newer.
                if record.modified is not None and hour_start <= record.modified < end:
                    yield record

    return flatten(merged_batches([partial(produce, g) for g in groups if g]))


def run_full_export(
    s3: Any,
    bucket: str,
    source: CellSource,
    now: datetime,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    segments: int = DEFAULT_SEGMENTS,
    part_size: int = DEFAULT_PART_SIZE,
) -> ExportResult:
    now = now.astimezone(UTC)
    key = full_export_key(now)
    result = write_export(s3, bucket, key, all_cells(source, segments), now, min_samples, part_size)
    return _publish(s3, bucket, "cell-full", result, now)


def run_diff_export(
    s3: Any,
    bucket: str,
    source: CellSource,
    now: datetime,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    part_size: int = DEFAULT_PART_SIZE,
) -> ExportResult:
    """The diff of the last complete hour before `now`, named with `now`'s hour."""
    now = now.astimezone(UTC)
    hour_start = previous_hour(now)
    key = diff_export_key(now)
    result = write_export(s3, bucket, key, changed_cells(source, hour_start), now, min_samples, part_size)
    return _publish(s3, bucket, "cell-diff", result, now)
