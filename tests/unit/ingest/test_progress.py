"""The progress line of `openloc import`, `export` and `transfer`."""

from __future__ import annotations

import io

from openloc.ingest.progress import ProgressLine


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bar_with_a_known_total_and_count_without() -> None:
    clock = Clock()
    out = io.StringIO()
    line = ProgressLine(out, 1000, "cells", clock=clock)
    clock.now += 2
    line.update(250, "240 published")
    clock.now += 0.1
    line.update(300)  # within half a second of the last redraw: not drawn
    clock.now += 2
    line.finish(1200)  # the total is approximate: the bar stops full
    drawn = out.getvalue().split("\r")[1:]
    first = "[#######.......................]  25.0% 250/~1,000 cells, 240 published, 125 cells/s"
    last = "[##############################] 100.0% 1,200/~1,000 cells, 293 cells/s"
    # A shorter line is padded with spaces so that nothing of the longer one stays on the terminal.
    assert drawn == [first, last.ljust(len(first)) + "\n"]
    unknown = io.StringIO()
    counting = ProgressLine(unknown, None, "items", clock=clock)
    clock.now += 2
    counting.finish(7, "2 batches")
    assert unknown.getvalue() == "\r7 items, 2 batches, 4 items/s\n"
    ProgressLine(None, 5, "items").finish(5)  # quiet: nothing to write to


def test_bar_by_bytes_count_by_rows() -> None:
    """`openloc import`: the bar follows the bytes read, the count and rate are rows."""
    from openloc.ingest.cell_import import ImportResult, Progress

    clock = Clock()
    out = io.StringIO()
    progress = Progress(out, 4_000_000, clock=clock)
    clock.now += 4
    progress.finish(1_000_000, ImportResult(rows=10_000, imported=9_990))
    assert out.getvalue() == (
        "\r[#######.......................]  25.0% 10,000 rows, 9,990 imported, 0 invalid, 2,500 rows/s\n"
    )
