"""Grouping a batch of reports by station key, with their weights."""

from __future__ import annotations

from openloc.aggregate.grouping import group_by_station
from openloc.aggregate.station_update import (
    StationObservation,
)
from openloc.model.kinds import Radio
from openloc.model.report import BlueObservation, CellObservation, WifiObservation

from tests.unit.support import report


def test_group_by_station_keys_and_weights() -> None:
    cell = CellObservation(radio=Radio.LTE, mcc=262, mnc="01", lac=1, cid=2, psc=7)
    grouped = group_by_station(
        [
            report(
                wifi=(WifiObservation(mac="001a2b000001"), WifiObservation(mac="001a2b000002", age=30_000)),
                bluetooth=(BlueObservation(mac="c0ffee000001"),),
                cells=(cell,),
            ),
            report(latitude=52.6, wifi=(WifiObservation(mac="001a2b000001"),), accuracy=500),  # too coarse
        ]
    )
    assert set(grouped) == {"wifi#001a2b000001", "blue#c0ffee000001", "cell#lte#262#01#1#2"}
    assert grouped["wifi#001a2b000001"] == [StationObservation(52.5, 13.4, 1.0, None)]
    assert grouped["cell#lte#262#01#1#2"][0].psc == 7


def test_group_by_station_fast_reports_dropped() -> None:
    assert group_by_station([report(speed=60, wifi=(WifiObservation(mac="001a2b000001"),))]) == {}
