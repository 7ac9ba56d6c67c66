"""The change index of cells (`by_changed_hour`): sparse, sharded, by hour."""

from __future__ import annotations

from datetime import UTC, datetime

from openloc.store.change_feed import CHANGE_SHARDS, changed_hour, hour_partitions, previous_hour

from tests.unit.support import NOW


def test_changed_hour_is_sparse_and_sharded() -> None:
    when = datetime(2026, 11, 23, 12, 59, 59, tzinfo=UTC)
    assert changed_hour("wifi#001a2b000001", when) is None
    assert changed_hour("cell#lte#262#01#1#1", None) is None
    value = changed_hour("cell#lte#262#01#1#1", when)
    assert value is not None and value in hour_partitions(datetime(2026, 11, 23, 12, tzinfo=UTC))
    shards = {changed_hour(f"cell#lte#262#01#1#{i}", when) for i in range(2_000)}
    assert len(shards) == CHANGE_SHARDS  # an hour's writes spread over every shard
    assert previous_hour(NOW) == datetime(2026, 11, 23, 12, tzinfo=UTC)
