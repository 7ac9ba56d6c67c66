"""One status line on a terminal for the long-running commands (`openloc import`, `export`,
`transfer`): a bar when the total is known (else a count), the rate, and a free text; redrawn at
most twice a second, ended with a newline by `finish`.

The bar follows `position` against `total` (items, or bytes of an input); the count shown and its
rate are `count` when given (e.g. rows while the bar follows bytes), else `position`."""

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
        self.width = 0  # of the last line drawn: a shorter one is padded to cover it

    def line(self, position: int, text: str = "", count: int | None = None) -> str:
        counted = position if count is None else count
        rate = counted / max(self.clock() - self.started, 1e-9)
        if self.total:
            share = min(position / self.total, 1.0)
            filled = int(BAR_WIDTH * share)
            head = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:6.1%} "
            head += f"{position:,}/~{self.total:,}" if count is None else f"{count:,}"
        else:
            head = f"{counted:,}"
        tail = f", {text}" if text else ""
        return f"{head} {self.unit}{tail}, {rate:,.0f} {self.unit}/s"

    def update(self, position: int, text: str = "", force: bool = False, count: int | None = None) -> None:
        if self.out is None:
            return
        now = self.clock()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        self.drawn = True
        line = self.line(position, text, count)
        self.out.write("\r" + line.ljust(self.width))
        self.width = len(line)
        self.out.flush()

    def finish(self, position: int, text: str = "", count: int | None = None) -> None:
        self.update(position, text, force=True, count=count)
        if self.out is not None:
            self.out.write("\n")
            self.out.flush()

    def end(self) -> None:
        """End a line that was drawn (before an error message), without drawing it again."""
        if self.out is not None and self.drawn:
            self.out.write("\n")
            self.out.flush()
