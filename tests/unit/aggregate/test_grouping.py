"""Grouping a batch of reports by station key, with their weights."""

from __future__ import annotations

from openloc.aggregate.grouping import gps_glitches, group_by_station
from openloc.aggregate.station_update import (
    StationObservation,
)
from openloc.model.kinds import Radio
from openloc.model.report import BlueObservation, CellObservation, Report, WifiObservation

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


def _walk(
    steps: int = 10, step_m: float = 6.0, every_ms: int = 4_000, submitter: str | None = "s1"
) -> list[Report]:
    """A stumbler walking north, one scan every `every_ms`, hearing the same access point."""
    return [
        report(
            timestamp=1_800_000_000_000 + i * every_ms,
            latitude=52.5 + i * step_m / 111_320,
            submitter=submitter,
            wifi=(WifiObservation(mac="001a2b000001", signal=-70),),
        )
        for i in range(steps)
    ]


def _jump(reports: list[Report], index: int, metres: float) -> list[Report]:
    jumped = reports[index].model_copy(update={"longitude": 13.4 + metres / 67_800})
    return [*reports[:index], jumped, *reports[index + 1 :]]


def test_a_gps_glitch_is_dropped_and_its_neighbours_kept() -> None:
    walk = _jump(_walk(), 5, 200.0)
    assert gps_glitches(walk) == {5}
    observed = group_by_station(walk)["wifi#001a2b000001"]
    assert len(observed) == 9 and all(abs(o.lon - 13.4) < 1e-9 for o in observed)
    assert len(group_by_station(walk, drop_glitches=False)["wifi#001a2b000001"]) == 10


def test_what_is_not_a_glitch() -> None:
    # a steady fast drive: 60 m between fixes is motion, not a jump
    assert gps_glitches(_walk(step_m=60.0, every_ms=2_000)) == set()
    # neighbours too far apart in time to tell
    assert gps_glitches(_jump(_walk(every_ms=40_000), 5, 200.0)) == set()
    # a small wobble
    assert gps_glitches(_jump(_walk(), 5, 40.0)) == set()
    # a turn: the fix after the jump stays where it jumped to
    walk = _walk()
    turned = walk[:5] + [r.model_copy(update={"longitude": 13.4 + 200 / 67_800}) for r in walk[5:]]
    assert gps_glitches(turned) == set()


def test_glitches_are_found_per_submitter() -> None:
    """Two stumblers 300 m apart scanning at the same times: neither is the other's glitch."""
    one = _walk(submitter="s1")
    two = [r.model_copy(update={"longitude": 13.4 + 300 / 67_800}) for r in _walk(submitter="s2")]
    interleaved = [r for pair in zip(one, two, strict=True) for r in pair]
    assert gps_glitches(interleaved) == set()
