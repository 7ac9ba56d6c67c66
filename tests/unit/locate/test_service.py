"""Strongest first: what one locate call reads, in which rounds, and that the answer holds."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from openloc.locate.lookup import CachedRecords, RecordLookup
from openloc.locate.query import CellSignal, LocateQuery, MacSignal, Source
from openloc.locate.service import (
    CACHED_MIN_USED,
    CACHED_WINDOW,
    FIRST_ROUND_WIFIS,
    SETTLED_MIN_USED,
    locate,
    rounds,
)
from openloc.model.records import StationRecord

from tests.unit.locate.support import Table, lte, offset


def ap(index: int, north: float, east: float) -> StationRecord:
    lat, lon = offset(north, east)
    return StationRecord(key=f"wifi#{index:012x}", lat=lat, lon=lon, radius=40.0, samples=20)


def scan(
    count: int, known: range | None = None, seed: int = 3
) -> tuple[LocateQuery, dict[str, StationRecord]]:
    """A phone scan: `count` access points around one spot (stronger = nearer), the `known` ones
    in the table, plus one LTE cell."""
    rng = random.Random(seed)
    records = {}
    signals = []
    for index in range(count):
        distance = 10 + 8 * index
        record = ap(index, rng.uniform(-distance, distance), rng.uniform(-distance, distance))
        if known is None or index in known:
            records[record.key] = record
        signals.append(MacSignal(f"{index:012x}", -45 - index))
    rng.shuffle(signals)  # clients send them in any order
    cell = lte(26866945)
    records[cell.key] = StationRecord(
        key=cell.key, lat=offset(0, 0)[0], lon=offset(0, 0)[1], radius=2000, samples=50
    )
    return LocateQuery(wifis=tuple(signals), cells=(CellSignal((cell,), -80),)), records


def test_rounds_are_the_strongest_wifi_then_the_rest_then_the_cells() -> None:
    query, _ = scan(20)
    first, rest, cells = rounds(query)
    strongest = sorted(query.wifis, key=lambda w: -(w.signal or -200))[:FIRST_ROUND_WIFIS]
    assert set(first.wifis) == set(strongest)
    assert set(rest.wifis) == set(query.wifis) - set(strongest)
    assert cells.cells == query.cells and not cells.wifis
    assert rounds(LocateQuery(wifis=query.wifis[:2], cells=query.cells))[0].wifis == query.wifis[:2]


def test_a_settled_first_round_reads_only_the_strongest_networks() -> None:
    query, records = scan(20)
    table = Table(records)
    estimate = locate(RecordLookup(table), query)
    assert estimate is not None and estimate.source is Source.WIFI
    assert len(estimate.used) >= SETTLED_MIN_USED
    assert table.keys_read == FIRST_ROUND_WIFIS  # of 20 Wi-Fi + 1 cell
    everything = Table(records)
    at_once = locate(RecordLookup(everything), query, staged=False)
    assert everything.keys_read == 21
    assert at_once is not None
    # The strongest (nearest) networks place the phone as well as all of them.
    truth = offset(0, 0)
    from openloc.geo.distance import haversine_m

    assert (
        haversine_m(*truth, estimate.lat, estimate.lon) <= haversine_m(*truth, at_once.lat, at_once.lon) + 25
    )


def test_an_unsettled_first_round_reads_the_rest_and_no_key_twice() -> None:
    # Only two of the strongest are known: the first round cannot settle, the second can.
    count = FIRST_ROUND_WIFIS + 8
    query, records = scan(count, known=range(FIRST_ROUND_WIFIS - 2, count))
    table = Table(records)
    estimate = locate(RecordLookup(table), query)
    reads = [key for keys in table.rounds for key in keys]
    assert len(table.rounds[0]) == FIRST_ROUND_WIFIS
    assert len(reads) == len(set(reads)) == count  # every Wi-Fi once; the cell never
    assert estimate is not None and estimate.source is Source.WIFI


def test_cells_are_read_last_and_the_answer_is_the_one_of_all_at_once() -> None:
    # two known networks: no Wi-Fi answer can settle
    query, records = scan(FIRST_ROUND_WIFIS + 2, known=range(0, 2))
    table = Table(records)
    estimate = locate(RecordLookup(table), query)
    assert len(table.rounds) == 3  # the strongest, the other two, the cell
    assert table.rounds[-1] == [query.cells[0].ids[0].key]
    assert estimate is not None
    assert estimate == locate(RecordLookup(Table(records)), query, staged=False)


def test_a_query_too_small_to_split_is_one_read() -> None:
    query, records = scan(2)
    query = LocateQuery(wifis=query.wifis)
    table = Table(records)
    locate(RecordLookup(table), query)
    assert len(table.rounds) == 1


def test_neighbours_cached_stations_answer_without_any_read() -> None:
    query, records = scan(20)
    table = Table(records)
    cache = CachedRecords(table, max_entries=100, ttl_seconds=60)
    lookup = RecordLookup(cache)
    # A neighbour named the 3rd to 12th strongest of these networks a moment ago.
    cache.get_stations([f"wifi#{w.mac}" for w in query.wifis if -56 <= (w.signal or 0) <= -47])
    table.rounds.clear()
    estimate = locate(lookup, query)
    assert estimate is not None and estimate.source is Source.WIFI
    assert table.rounds == []
    assert len(estimate.used) >= CACHED_MIN_USED


def test_too_few_cached_networks_do_not_answer_without_a_read() -> None:
    """Every placed network carries its own error: fewer than `CACHED_MIN_USED` cached among the
    strongest are read with the rest of the first round, not answered from."""
    query, records = scan(20)
    table = Table(records)
    cache = CachedRecords(table, max_entries=100, ttl_seconds=60)
    ranked = sorted(query.wifis, key=lambda w: -(w.signal or -200))
    cache.get_stations([f"wifi#{w.mac}" for w in ranked[: CACHED_MIN_USED - 1]])
    table.rounds.clear()
    estimate = locate(RecordLookup(cache), query)
    assert table.rounds, "the first round was read"
    assert estimate is not None and len(estimate.used) >= CACHED_MIN_USED


def test_only_the_strongest_cached_networks_may_answer_without_a_read() -> None:
    """Far (weak) networks place the client worse: cached ones outside the strongest
    `CACHED_WINDOW` are not enough to skip the reads."""
    query, records = scan(20)
    table = Table(records)
    cache = CachedRecords(table, max_entries=100, ttl_seconds=60)
    weak = sorted(query.wifis, key=lambda w: w.signal or 0)[: 20 - CACHED_WINDOW]
    cache.get_stations([f"wifi#{w.mac}" for w in weak])
    table.rounds.clear()
    locate(RecordLookup(cache), query)
    strongest = sorted(query.wifis, key=lambda w: -(w.signal or -200))[:FIRST_ROUND_WIFIS]
    assert set(table.rounds[0]) == {f"wifi#{w.mac}" for w in strongest}  # read, not answered from cache


def test_a_failing_table_is_a_lookup_failure() -> None:
    from openloc.locate.service import LookupFailed

    class Down(Table):
        def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
            raise ConnectionError("dynamodb unreachable")

    query, records = scan(8)
    with pytest.raises(LookupFailed, match="ConnectionError"):
        locate(RecordLookup(Down(records)), query)
