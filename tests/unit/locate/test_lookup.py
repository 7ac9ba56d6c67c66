"""The per-instance station cache (`CachedRecords`) and what `RecordLookup` gets from it."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from openloc.locate.lookup import CachedRecords, RecordLookup
from openloc.locate.query import LocateQuery, MacSignal
from openloc.model.records import StationRecord

from tests.unit.locate.support import Table


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(key: str, lat: float = 52.5) -> StationRecord:
    return StationRecord(key=key, lat=lat, lon=13.4, radius=40.0, samples=5)


def test_fresh_entries_are_served_without_a_read_and_expire_after_the_ttl() -> None:
    table, clock = Table({"wifi#a": record("wifi#a"), "wifi#b": record("wifi#b")}), Clock()
    cache = CachedRecords(table, max_entries=10, ttl_seconds=60, clock=clock)
    assert set(cache.get_stations(["wifi#a", "wifi#b"])) == {"wifi#a", "wifi#b"}
    clock.now += 59
    assert set(cache.get_stations(["wifi#b", "wifi#a"])) == {"wifi#a", "wifi#b"}
    assert table.rounds == [["wifi#a", "wifi#b"]]
    assert (cache.hits, cache.misses) == (2, 2)
    clock.now += 1  # 60 s after the read: stale
    table.records["wifi#a"] = record("wifi#a", lat=52.6)  # the table moved on meanwhile
    assert cache.get_stations(["wifi#a"])["wifi#a"].lat == 52.6
    assert table.rounds[-1] == ["wifi#a"]


def test_unknown_keys_are_remembered_too() -> None:
    table = Table({"wifi#a": record("wifi#a")})
    cache = CachedRecords(table, max_entries=10, ttl_seconds=60, clock=Clock())
    assert set(cache.get_stations(["wifi#a", "wifi#unknown"])) == {"wifi#a"}
    assert set(cache.get_stations(["wifi#unknown", "wifi#a"])) == {"wifi#a"}
    assert table.rounds == [["wifi#a", "wifi#unknown"]]  # the absent key is not read again


def test_only_missing_keys_are_read_once_each_and_duplicates_collapse() -> None:
    table = Table({f"wifi#{i}": record(f"wifi#{i}") for i in range(5)})
    cache = CachedRecords(table, max_entries=10, ttl_seconds=60, clock=Clock())
    cache.get_stations(["wifi#0", "wifi#1"])
    cache.get_stations(["wifi#1", "wifi#2", "wifi#2", "wifi#3"])
    assert table.rounds == [["wifi#0", "wifi#1"], ["wifi#2", "wifi#3"]]


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    table = Table({f"wifi#{i}": record(f"wifi#{i}") for i in range(100)})
    cache = CachedRecords(table, max_entries=3, ttl_seconds=60, clock=Clock())
    cache.get_stations(["wifi#0", "wifi#1", "wifi#2"])
    cache.get_stations(["wifi#0"])  # used again: now the most recent
    cache.get_stations(["wifi#3"])  # evicts wifi#1, the least recently used
    assert len(cache) == 3
    table.rounds.clear()
    cache.get_stations(["wifi#0", "wifi#1", "wifi#2", "wifi#3"])
    assert table.rounds == [["wifi#1"]]
    # A flood of distinct keys (an attacker's scans) never grows it past its bound.
    for start in range(0, 100, 10):
        cache.get_stations([f"wifi#{i}" for i in range(start, start + 10)])
    assert len(cache) == 3


def test_peek_reads_nothing_and_returns_only_fresh_known_records() -> None:
    table, clock = Table({"wifi#a": record("wifi#a")}), Clock()
    cache = CachedRecords(table, max_entries=10, ttl_seconds=60, clock=clock)
    assert cache.peek(["wifi#a"]) == {}
    cache.get_stations(["wifi#a", "wifi#none"])
    assert set(cache.peek(["wifi#a", "wifi#none", "wifi#never"])) == {"wifi#a"}
    clock.now += 60
    assert cache.peek(["wifi#a"]) == {}
    assert len(table.rounds) == 1
    lookup = RecordLookup(cache)
    clock.now -= 30
    query = LocateQuery(wifis=(MacSignal("a", -50), MacSignal("b", -60)))
    assert set(lookup.cached(query)) == {"wifi#a"}
    assert RecordLookup(table).cached(query) == {}  # a source without a cache: nothing for free


def test_a_failed_read_caches_nothing() -> None:
    class Failing(Table):
        def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
            raise TimeoutError("dynamodb")

    cache = CachedRecords(Failing({}), max_entries=10, ttl_seconds=60, clock=Clock())
    with pytest.raises(TimeoutError):
        cache.get_stations(["wifi#a"])
    assert len(cache) == 0


def test_threads_share_one_consistent_cache() -> None:
    table = Table({f"wifi#{i}": record(f"wifi#{i}") for i in range(50)})
    cache = CachedRecords(table, max_entries=40, ttl_seconds=60, clock=Clock())
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for round_ in range(200):
                keys = [f"wifi#{(offset + round_ + i) % 50}" for i in range(5)]
                assert set(cache.get_stations(keys)) == set(keys)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) <= 40


@pytest.mark.parametrize(("entries", "ttl"), [(0, 60), (10, 0)])
def test_a_cache_needs_room_and_time(entries: int, ttl: float) -> None:
    with pytest.raises(ValueError, match="cache"):
        CachedRecords(Table({}), max_entries=entries, ttl_seconds=ttl)
