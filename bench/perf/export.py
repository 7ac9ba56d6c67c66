"""Export throughput: rows/s of the public cell export (CSV + gzip level 5, as uploaded).

A dedicated export benchmark (a module `bench.export_bench` with `rows_per_second() -> float`)
is used when present; otherwise the export code itself (`openloc.publish.cell_export.export_lines`)
is timed here on synthetic cell records. Without either, the section is skipped.
"""

from __future__ import annotations

import gzip
import importlib
import io
import time
from datetime import UTC, datetime
from typing import Any


def _own(rows: int) -> dict[str, Any] | None:
    try:
        from openloc.publish.cell_export import export_lines
    except ImportError:
        return None
    from openloc.model.records import StationRecord

    now = datetime(2026, 11, 23, tzinfo=UTC)
    records = [
        StationRecord(
            key=f"cell#lte#262#01#{3000 + i // 5000}#{(50_000 + i) << 8}", lat=52.5 + i * 1e-6, lon=13.4 - i * 1e-6,
            radius=1500, samples=40 + i % 300, psc=i % 504, created=now, modified=now,
        )
        for i in range(rows)
    ]  # fmt: skip
    start = time.perf_counter()
    sink = io.BytesIO()
    with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=5) as compressed:
        for chunk in export_lines(records):
            compressed.write(chunk)
    elapsed = time.perf_counter() - start
    return {"rows_per_s": rows / elapsed, "rows": rows, "gzip_bytes_per_row": sink.tell() / rows,
            "source": "openloc.publish.cell_export.export_lines + gzip 5 (bench.perf.export)"}  # fmt: skip


def export_throughput(rows: int = 200_000) -> dict[str, Any]:
    try:
        module = importlib.import_module("bench.export_bench")
        return {"rows_per_s": float(module.rows_per_second()), "source": "bench.export_bench"}
    except ImportError:
        pass
    own = _own(rows)
    return own if own is not None else {"skipped": "no export code or benchmark found"}
