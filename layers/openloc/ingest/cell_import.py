"""`openloc import`: load an MLS or OpenCellID cell CSV (gzipped or plain) into the tables.

Accepted layouts:
- MLS / current OpenCellID (`cell_towers.csv.gz`): `radio,mcc,net,area,cell,unit,lon,lat,range,
  samples,changeable,created,updated,averageSignal`, with or without the header line (OpenCellID's
  per-country files have none);
- header variants: `mnc` for `net`; `lac`/`tac` for `area`; `cid`/`cellid`/`ci` for `cell`;
  `psc`/`pci` for `unit`; `lng`/`long`/`longitude`, `latitude`; `averageSignalStrength`; any case,
  any column order; extra columns ignored.

Rows go through the same validation as transfer items (`openloc.model.exchange.CellItem`); a row
that fails is counted under its reason and skipped, never fatal. Valid rows are written with
BatchWriteItem in chunks (replacing rows with the same key: this is a bulk load, for merging
into a live instance use `POST /v1/transfer`), then the cell area of every imported area is
recomputed from all of its cells. Cells with a CDMA or unknown radio are counted as invalid.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, TextIO, cast

from pydantic import ValidationError

from openloc.ingest.progress import ProgressLine
from openloc.ingest.station_writes import recompute_areas
from openloc.model.exchange import CellItem
from openloc.model.keys import area_of
from openloc.model.records import StationRecord
from openloc.store.stations import StationStore

MLS_COLUMNS = (
    "radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
    "changeable", "created", "updated", "averageSignal",
)  # fmt: skip
# Column name (lower case) → CellItem field; the first non-empty of several aliases wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "radio": ("radio", "radiotype", "radio_type", "act"),
    "mcc": ("mcc",),
    "net": ("net", "mnc"),
    "area": ("area", "lac", "tac"),
    "cell": ("cell", "cellid", "cell_id", "cid", "ci", "eci", "nci"),
    "unit": ("unit", "psc", "pci"),
    "lon": ("lon", "lng", "long", "longitude"),
    "lat": ("lat", "latitude"),
    "range": ("range", "radius"),
    "samples": ("samples",),
    "changeable": ("changeable",),
    "created": ("created",),
    "updated": ("updated",),
    "averageSignal": ("averagesignal", "averagesignalstrength", "avgsignal"),
}
REQUIRED = ("radio", "mcc", "net", "area", "cell", "lon", "lat")
_RADIO_WORDS = {"gsm", "umts", "wcdma", "lte", "nr", "cdma"}


class ImportFormatError(ValueError):
    """The file is not a cell CSV at all (no usable header, required columns missing)."""


@dataclass
class ImportResult:
    rows: int = 0
    imported: int = 0
    invalid: Counter[str] = field(default_factory=Counter)
    areas_updated: int = 0
    areas_deleted: int = 0

    @property
    def invalid_total(self) -> int:
        return sum(self.invalid.values())


def column_map(header: Sequence[str]) -> dict[str, list[int]]:
    """CellItem field → the column indexes that may hold it (alias order)."""
    names = [name.strip().lstrip("\ufeff").lower() for name in header]
    found: dict[str, list[int]] = {}
    for target, aliases in ALIASES.items():
        indexes = [names.index(alias) for alias in aliases if alias in names]
        if indexes:
            found[target] = indexes
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise ImportFormatError(f"no column for {', '.join(missing)} in header {list(header)!r}")
    return found


def _looks_like_data(row: Sequence[str]) -> bool:
    return bool(row) and row[0].strip().lower() in _RADIO_WORDS


def _field_values(row: Sequence[str], columns: dict[str, list[int]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for target, indexes in columns.items():
        for index in indexes:
            if index < len(row) and row[index].strip():
                values[target] = row[index]
                break
    return values


def _reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "cell"
    return f"{where}: {first['type']}"


MLS_LAYOUT = {name: [i] for i, name in enumerate(MLS_COLUMNS)}


def layout_of(first: Sequence[str]) -> tuple[dict[str, list[int]], bool]:
    """The columns of a file from its first row, and whether that row is data (no header)."""
    if _looks_like_data(first):
        return dict(MLS_LAYOUT), True
    return column_map(first), False


def parse_rows(lines: Iterable[str], result: ImportResult) -> Iterator[CellItem]:
    """Valid cell items of a CSV text stream; invalid rows are counted in `result.invalid`."""
    reader = csv.reader(lines)
    first = next(reader, None)
    if first is None:
        return
    columns, first_is_data = layout_of(first)
    yield from parse_data(itertools.chain([first] if first_is_data else [], reader), columns, result)


def parse_data(
    rows: Iterable[Sequence[str]], columns: dict[str, list[int]], result: ImportResult
) -> Iterator[CellItem]:
    """Valid cell items of CSV rows laid out as `columns` (no header row among them)."""
    for row in rows:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        result.rows += 1
        try:
            yield CellItem.model_validate(_field_values(row, columns))
        except ValidationError as error:
            result.invalid[_reason(error)] += 1


def region_of(item: CellItem) -> str | None:
    """The cell's region: its MCC's country when the MCC has one, else found by position."""
    from openloc.geo.regions import region_for_position, regions_for_mcc

    codes = regions_for_mcc(item.mcc)
    if len(codes) == 1:
        return codes[0]
    found = region_for_position(item.lat, item.lon)
    return found.code if found is not None else None


class Progress:
    """The import's status line: the bar follows the bytes read of the input (when its size is
    known), the count and rate are rows, with the imported and invalid ones."""

    def __init__(
        self, out: TextIO | None, total_bytes: int | None, clock: Callable[[], float] = time.monotonic
    ):
        self.line = ProgressLine(out, total_bytes, "rows", clock)

    @staticmethod
    def _text(result: ImportResult) -> str:
        return f"{result.imported:,} imported, {result.invalid_total:,} invalid"

    def update(self, read_bytes: int, result: ImportResult, force: bool = False) -> None:
        self.line.update(read_bytes, self._text(result), force, count=result.rows)

    def finish(self, read_bytes: int, result: ImportResult) -> None:
        self.line.finish(read_bytes, self._text(result), count=result.rows)


class _CountingReader(io.RawIOBase):
    """Counts the bytes read from the (possibly compressed) input for the progress line."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def decompressed(raw: IO[bytes]) -> tuple[IO[bytes], _CountingReader]:
    """The bytes of a stream, gunzipped when it starts with the gzip magic; and the counter of
    the (compressed) bytes read from `raw`."""
    counting = _CountingReader(raw)
    buffered = io.BufferedReader(counting, buffer_size=1 << 20)
    gzipped = buffered.peek(2)[:2] == b"\x1f\x8b"
    return cast(IO[bytes], gzip.GzipFile(fileobj=buffered) if gzipped else buffered), counting


def text_lines(raw: IO[bytes]) -> tuple[TextIO, _CountingReader]:
    """The CSV text of a binary stream, gunzipped when it starts with the gzip magic."""
    binary, counting = decompressed(raw)
    return io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline=""), counting


def write_cells(
    items: Iterable[CellItem],
    store: StationStore,
    now: datetime,
    result: ImportResult,
    pool: ThreadPoolExecutor,
    workers: int,
    batch_size: int = 500,
    on_row: Callable[[], None] = lambda: None,
) -> set[str]:
    """Write the cells in batches on `pool` (at most 2 × `workers` batches in flight, so memory
    stays flat); the keys of the cell areas they belong to."""
    area_keys: set[str] = set()
    batch: dict[str, StationRecord] = {}
    inflight: list[Future[None]] = []

    def flush() -> None:
        nonlocal batch
        if not batch:
            return
        records = list(batch.values())
        batch = {}
        inflight.append(pool.submit(store.put_stations, records))
        while len(inflight) > workers * 2:
            inflight.pop(0).result()
        result.imported += len(records)

    for item in items:
        record = item.to_record(region_of(item), now)
        batch[record.key] = record  # a key twice in one batch: the later row wins
        area = area_of(record.key)
        if area is not None:
            area_keys.add(area)
        if len(batch) >= batch_size:
            flush()
        on_row()
    flush()
    for future in inflight:
        future.result()
    return area_keys


def import_cells(
    raw: IO[bytes],
    store: StationStore,
    now: datetime,
    total_bytes: int | None = None,
    batch_size: int = 500,
    workers: int = 4,
    out: TextIO | None = sys.stderr,
) -> ImportResult:
    """Read cells from `raw`, write them in batches (`workers` threads), then recompute areas."""
    result = ImportResult()
    text, counting = text_lines(raw)
    progress = Progress(out, total_bytes)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        area_keys = write_cells(
            parse_rows(text, result),
            store,
            now,
            result,
            pool,
            workers,
            batch_size,
            on_row=lambda: progress.update(counting.count, result),
        )
        progress.finish(counting.count, result)
        result.areas_updated, result.areas_deleted = recompute_areas(store, area_keys, now, pool)
    return result


def line_range(data: bytes, first: bool, more: Callable[[], bytes]) -> bytes:
    """The whole lines one byte-range shard owns: those that start inside its range.

    `data` is the range's bytes preceded by one byte (unless `first`: the range starts a line);
    the partial line at its start belongs to the shard before, the line running past its end is
    completed with `more()` (bytes after the range; b"" at the end of the file)."""
    if not first:
        cut = data.find(b"\n")
        data = data[cut + 1 :] if cut >= 0 else b""
    if data and not data.endswith(b"\n"):
        tail = bytearray(data)
        while True:
            chunk = more()
            if not chunk:
                break
            end = chunk.find(b"\n")
            if end >= 0:
                tail += chunk[: end + 1]
                break
            tail += chunk
        data = bytes(tail)
    return data
