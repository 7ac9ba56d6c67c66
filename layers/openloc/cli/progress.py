"""One status line on a terminal for the long-running commands (`openloc export`, `openloc
transfer`): a bar when the total is known (else a count), the rate, and a free text; redrawn at
most twice a second, ended with a newline by `finish`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 30


class ProgressLine:
    def __init__(
        self,
        out: TextIO | None,
        total: int | None,
        unit: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.total = total
        self.unit = unit
        self.clock = clock
        self.started = clock()
        self.last = float("-inf")
        self.drawn = False

    def line(self, done: int, text: str = "") -> str:
        rate = done / max(self.clock() - self.started, 1e-9)
        if self.total:
            share = min(done / self.total, 1.0)
            filled = int(BAR_WIDTH * share)
            head = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:6.1%} {done:,}/~{self.total:,}"
        else:
            head = f"{done:,}"
        tail = f", {text}" if text else ""
        return f"{head} {self.unit}{tail}, {rate:,.0f} {self.unit}/s"

    def update(self, done: int, text: str = "", force: bool = False) -> None:
        if self.out is None:
            return
        now = self.clock()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        self.drawn = True
        self.out.write("\r" + self.line(done, text))
        self.out.flush()

    def finish(self, done: int, text: str = "") -> None:
        self.update(done, text, force=True)
        if self.out is not None:
            self.out.write("\n")
            self.out.flush()

    def end(self) -> None:
        """End a line that was drawn (before an error message), without drawing it again."""
        if self.out is not None and self.drawn:
            self.out.write("\n")
            self.out.flush()
