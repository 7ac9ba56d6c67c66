"""Queue message packing and the in-memory queue."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from openloc.store.queue import MemoryObservationQueue, pack_messages

reports_strategy = st.lists(
    st.fixed_dictionaries({"id": st.integers(0, 10**6), "pad": st.text(alphabet="abc\u00e9", max_size=200)}),
    max_size=40,
)


@given(reports_strategy, st.integers(300, 3_000))
def test_pack_messages_bounded_ordered_lossless(reports: list[dict[str, Any]], limit: int) -> None:
    bodies = list(pack_messages(reports, limit))
    for body in bodies:
        assert len(body.encode()) <= limit
    unpacked = [r for body in bodies for r in json.loads(body)["reports"]]
    assert unpacked == reports


def test_pack_messages_empty_and_oversized() -> None:
    assert list(pack_messages([])) == []
    big = {"pad": "x" * 500}
    bodies = list(pack_messages([big, big], 100))
    assert len(bodies) == 2  # a report larger than the limit travels alone


def test_memory_queue() -> None:
    queue = MemoryObservationQueue()
    assert queue.send([{"a": 1}, {"b": 2}]) == 1
    assert json.loads(queue.messages[0]) == {"reports": [{"a": 1}, {"b": 2}]}
