"""Parallel scan segments merged into batches."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from openloc.publish.cell_export import HEADER
from openloc.store.parallel import flatten, merged_batches


def test_merged_batches_all_items_and_errors() -> None:
    producers = [lambda n=n: range(n * 1000, n * 1000 + 777) for n in range(4)]
    items = list(flatten(merged_batches(producers, max_pending=2, batch_size=100)))
    assert sorted(items) == sorted(i for n in range(4) for i in range(n * 1000, n * 1000 + 777))

    def failing() -> Iterator[int]:
        yield 1
        raise OSError("segment failed")

    with pytest.raises(OSError, match="segment failed"):
        list(flatten(merged_batches([failing, lambda: range(10)])))
    assert json.dumps(HEADER)  # the header is plain ASCII strings
