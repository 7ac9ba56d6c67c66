"""`openloc export --out FILE`: the public cell CSV (MLS format, `publish.cell_export`) of the
configured tables written to a local file, gzipped when FILE ends in `.gz`.

Same rows as the scheduled full export: every cell of the `by_area` index read by parallel Scan
segments (`CELL_EXPORT_SEGMENTS`), published by the same rule (`CELL_EXPORT_MIN_SAMPLES`, not
held, not blocked). The tables are whatever the environment names (`AWS_ENDPOINT_URL`,
`STATIONS_TABLE`): the deployed ones, or `make run`'s moto server.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def _export(args: argparse.Namespace) -> int:
    from openloc.ingest.progress import ProgressLine
    from openloc.publish.cell_export import write_export_file
    from openloc.settings import get_settings
    from openloc.store.cell_source import DynamoCellSource, all_cells

    settings = get_settings()
    out = Path(args.out)
    if not out.parent.is_dir():
        print(f"openloc export: no such folder: {out.parent}", file=sys.stderr)
        return 2
    source = DynamoCellSource.from_settings(settings)
    min_samples = args.min_samples or settings.cell_export_min_samples
    segments = args.segments or settings.cell_export_segments
    progress = ProgressLine(None if args.quiet else sys.stderr, source.approximate_count(), "cells")
    started = time.monotonic()
    counts = [0, 0]  # cells read, cells published

    def report(read: int, rows: int) -> None:
        counts[:] = [read, rows]
        progress.update(read, f"{rows:,} published")

    result = write_export_file(out, all_cells(source, segments), datetime.now(UTC), min_samples, report)
    progress.finish(counts[0], f"{counts[1]:,} published")
    print(
        f"wrote {out}: {result.rows} cells from {settings.stations_table} "
        f"(samples >= {min_samples}), {result.size} bytes, sha256 {result.sha256}, "
        f"{time.monotonic() - started:.1f} s"
    )
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser(
        "export",
        help="write the public cell CSV (MLS format) of the configured tables (AWS_ENDPOINT_URL, "
        "STATIONS_TABLE) to a file; .gz = gzipped",
    )
    export.add_argument("--out", required=True, metavar="FILE", help="output file (.csv or .csv.gz)")
    export.add_argument(
        "--min-samples", type=int, default=0, help="publish cells with at least this many samples "
        "(default CELL_EXPORT_MIN_SAMPLES)",
    )  # fmt: skip
    export.add_argument(
        "--segments", type=int, default=0, help="parallel Scan segments (default CELL_EXPORT_SEGMENTS)"
    )
    export.add_argument("--quiet", action="store_true", help="no progress line")
    export.set_defaults(func=_export)
