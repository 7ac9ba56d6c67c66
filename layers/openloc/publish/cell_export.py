"""The public cell export in Mozilla Location Service's CSV format.

Columns: radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal
(radio GSM/UMTS/LTE/NR; lon before lat, 7 decimals; range in metres; times in Unix seconds;
`unit` = PSC/PCI; `changeable` always 1 (positions are computed); `averageSignal` empty, since
OpenLoc does not keep it; CRLF line ends).

Published cells: positioned, not held back as uncorroborated (docs/abuse.md), not currently
blocked (`station_blocked`) and with at least
`min_samples` samples (setting `CELL_EXPORT_MIN_SAMPLES`, default 3) — a cell seen only once or
twice may be a single contributor's track and is often wrong.

Files (`write_export` streams rows through gzip into `ObjectStore.writer`, so memory is one
upload part plus a few read pages whatever the table size, then `publish_export` lists the file
in `downloads.json`):

- full: `exports/cells/full/MLS-full-cell-export-<YYYY-MM-DD>T000000.csv.gz`, every cell;
- diff: `exports/cells/diff/MLS-diff-cell-export-<YYYY-MM-DD>T<HH>0000.csv.gz`, the cells whose last
  change falls in the hour before the file's timestamp (a run at 13:05 writes `…T130000` with the
  cells changed in [12:00, 13:00)). A diff lists changed cells that are still published; a cell
  blocked or dropped in that hour is simply absent (as in MLS's diffs).

The sharded full export (`openloc.jobs.cell_export_full`) writes one gzip member per shard
(`write_export(…, header=False)`) and composes the file from a header member and the shards'
members (`compose_export`): a gzip file may be several members, which every gzip reader
(zlib's `gzread`, `zcat`, Python's `gzip`, Java's `GZIPInputStream`, Go's `gzip.Reader`) reads as
one stream.

Full exports superseded in the manifest are deleted; old diffs expire by the bucket's lifecycle
rule on `exports/cells/diff/`.

`write_export_file` writes the same rows into a local file (`openloc export --out FILE`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openloc.aggregate.blocking import station_blocked
from openloc.model.exchange import RADIO_NAMES
from openloc.model.keys import parse_key
from openloc.model.kinds import FileKind
from openloc.model.records import StationRecord
from openloc.publish.manifest import DownloadFile, delete_dropped, update_manifest
from openloc.store.objects import DEFAULT_PART_SIZE, ObjectStore, Piece

HEADER = (
    "radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
    "changeable", "created", "updated", "averageSignal",
)  # fmt: skip


def export_row(record: StationRecord) -> list[str] | None:
    """One CSV row for a positioned cell; None for anything else (non-cells, blocked cells)."""
    parsed = parse_key(record.key)
    cell = parsed.cell if parsed is not None else None
    if cell is None or record.lat is None or record.lon is None:
        return None
    created = int(record.created.timestamp()) if record.created else ""
    updated = int(record.modified.timestamp()) if record.modified else created
    return [
        RADIO_NAMES[cell.radio], str(cell.mcc), str(int(cell.mnc)), str(cell.lac), str(cell.cid),
        "" if record.psc is None else str(record.psc),
        f"{record.lon:.7f}", f"{record.lat:.7f}", str(int(record.radius or 0)), str(record.samples),
        "1", str(created), str(updated), "",
    ]  # fmt: skip


def exportable(record: StationRecord, today: date, min_samples: int) -> bool:
    """Whether a cell is published: positioned, not held back or blocked on `today`, enough samples."""
    return (
        not record.held
        and record.lat is not None
        and record.lon is not None
        and record.samples >= min_samples
        and not station_blocked(record, today)
    )


def header_line() -> bytes:
    return (",".join(HEADER) + "\r\n").encode()


def export_lines(records: Iterable[StationRecord], header: bool = True) -> Iterator[bytes]:
    """The CSV file as a stream of encoded chunks (header first, unless `header` is False: one
    shard's rows of a sharded export)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(HEADER)
    for record in records:
        row = export_row(record)
        if row is not None:
            writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


FULL_PREFIX = "exports/cells/full/"
DIFF_PREFIX = "exports/cells/diff/"
CONTENT_TYPE = "application/gzip"  # served as a file to download, not transparently decoded
CACHE_CONTROL = "public, max-age=3600"
DEFAULT_MIN_SAMPLES = 3


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
    assets: ObjectStore,
    key: str,
    records: Iterable[StationRecord],
    now: datetime,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    part_size: int = DEFAULT_PART_SIZE,
    header: bool = True,
) -> ExportResult:
    """Stream the published `records` as a gzipped CSV into the object `key` (one gzip member;
    without the header line when `header` is False)."""
    counter = _Counter()
    writer = assets.writer(key, CONTENT_TYPE, CACHE_CONTROL, part_size)
    # mtime fixed to the export time: the same rows give the same bytes (and SHA-256).
    with writer, gzip.GzipFile(fileobj=writer, mode="wb", compresslevel=6, mtime=int(now.timestamp())) as gz:
        for chunk in export_lines(_published(records, now, min_samples, counter), header):
            gz.write(chunk)
    result = writer.result
    assert result is not None
    return ExportResult(key, counter.rows, result.size, result.sha256, result.parts)


def header_member(now: datetime) -> bytes:
    """The header line as a gzip member of its own: the first piece of a sharded export."""
    return gzip.compress(header_line(), compresslevel=6, mtime=int(now.timestamp()))


def compose_export(
    assets: ObjectStore, key: str, now: datetime, header: Piece, parts: Sequence[tuple[Piece, int]]
) -> ExportResult:
    """A sharded export: the header member then each shard's member (gzip members concatenate
    into one valid gzip stream, RFC 1952 §2.2), composed inside S3; `parts` are (piece, rows)."""
    uploaded = assets.compose(key, [header, *(piece for piece, _ in parts)], CONTENT_TYPE, CACHE_CONTROL)
    return ExportResult(key, sum(rows for _, rows in parts), uploaded.size, uploaded.sha256, uploaded.parts)


def publish_export(assets: ObjectStore, kind: FileKind, result: ExportResult, now: datetime) -> ExportResult:
    """List the file in `downloads.json`; a full export deletes the full exports it superseded."""
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
    update = update_manifest(assets, [entry], now=now)
    deleted = 0
    if kind is FileKind.CELL_FULL:  # only this job's own kind: other jobs decide about their files
        superseded = [f for f in update.dropped if f.kind == kind and f.path.startswith(FULL_PREFIX)]
        deleted = delete_dropped(assets, superseded)
    return ExportResult(result.key, result.rows, result.size, result.sha256, result.parts, deleted)


def write_export_file(
    path: Path,
    records: Iterable[StationRecord],
    now: datetime,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """The export of the published `records` into a local file, gzipped when its name ends in
    `.gz` (as the published file: same rows, same gzip settings); `progress(read, rows)` is called
    every 10 000 records read. Written to `<path>.part`, renamed when complete and removed on an
    error, so an interrupted export leaves no file that looks whole."""
    counter = _Counter()
    read = 0

    def counted() -> Iterator[StationRecord]:
        nonlocal read
        for record in records:
            yield record
            read += 1  # counted once the record has been through the filter
            if progress is not None and read % 10_000 == 0:
                progress(read, counter.rows)

    partial = path.with_name(path.name + ".part")
    lines = export_lines(_published(counted(), now, min_samples, counter))
    try:
        with partial.open("wb") as raw:
            if path.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=int(now.timestamp())) as gz:
                    for chunk in lines:
                        gz.write(chunk)
            else:
                for chunk in lines:
                    raw.write(chunk)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(read, counter.rows)
    with partial.open("rb") as written:
        digest = hashlib.file_digest(written, "sha256").hexdigest()
    partial.replace(path)
    return ExportResult(str(path), counter.rows, path.stat().st_size, digest, 1)
