"""The locate query: the station and area keys it looks up."""

from __future__ import annotations

from openloc.locate.query import CellSignal, LocateQuery, MacSignal

from tests.unit.locate.support import lte


def test_locate_query_keys_deduplicated() -> None:
    c = lte(1)
    query = LocateQuery(
        wifis=(MacSignal("001a2b000001"),),
        blues=(MacSignal("c0ffee000001"),),
        cells=(CellSignal((c, lte(1, mnc="001"))), CellSignal((c,))),
    )
    assert query.station_keys == [
        "wifi#001a2b000001",
        "blue#c0ffee000001",
        c.key,
        lte(1, mnc="001").key,
    ]
    assert query.area_keys == [c.area_key, lte(1, mnc="001").area_key]
