"""The in-memory twins of the Redis counters and key cache (the Redis side runs against Valkey in
tests/integration/test_limits.py, with the same checks)."""

from __future__ import annotations

from openloc.model.records import ApiKeyRecord
from openloc.store.counters import MemoryCounters, RedisCounters, UnavailableCounters
from openloc.store.key_cache import MemoryKeyCache, RedisKeyCache, with_key


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_counters_add_read_and_expire() -> None:
    clock = Clock()
    counters = MemoryCounters(clock)
    assert counters.add(["a", "b"], [60, 10]) == [1, 1]
    assert counters.add(["a", "b"], [60, 10], [5, 2]) == [6, 3]
    assert counters.read(["a", "b", "c"]) == [6, 3, 0]
    clock.t += 10  # b expired with its own TTL, a keeps its first one
    assert counters.read(["a", "b"]) == [6, 0]
    assert counters.add(["b"], [10]) == [1]
    clock.t += 50
    assert counters.read(["a"]) == [0]


def test_unreachable_counters_answer_unknown() -> None:
    for counters in (UnavailableCounters(), RedisCounters(lambda: None)):
        assert counters.add(["a"], [60]) is None and counters.read(["a"]) is None


def test_key_cache_holds_records_without_keys_and_unknown_markers() -> None:
    clock = Clock()
    cache = MemoryKeyCache(clock)
    cache.put("d1", ApiKeyRecord(key="secret-key", maxreq=3, maxsubmit=9), 300)
    cache.put("d2", None, 30)
    found, record = cache.get("d1")
    assert found and record is not None and record.key == "" and (record.maxreq, record.maxsubmit) == (3, 9)
    assert with_key(record, "secret-key") == ApiKeyRecord(key="secret-key", maxreq=3, maxsubmit=9)
    assert cache.get("d2") == (True, None)
    assert cache.get("d3") == (False, None)
    assert "secret-key" not in repr(cache.entries)
    clock.t += 31
    assert cache.get("d2") == (False, None) and cache.get("d1")[0]
    assert RedisKeyCache(lambda: None).get("d1") == (False, None)
