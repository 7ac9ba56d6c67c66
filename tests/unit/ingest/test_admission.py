"""New stations per source and day: floods are held back, honest first surveys are learned
(docs/abuse.md). Real sizes: the flood of the issue (10 reports × 200 random Bluetooth MACs),
and a stumbler's first upload in a new area (2 000 reports naming 600 new networks)."""

from __future__ import annotations

import random
from datetime import timedelta

from openloc.aggregate.station_update import Change, StationObservation
from openloc.ingest.admission import Admission, AdmissionPolicy, NewStations
from openloc.ingest.pipeline import process_reports
from openloc.locate.lookup import known
from openloc.locate.query import KnownStation
from openloc.model.kinds import Radio
from openloc.model.report import BlueObservation, CellObservation, Report, WifiObservation
from openloc.store.source_budgets import MemorySourceBudgets

from tests.unit.ingest.support import NOW, Stores, _stores

POLICY = AdmissionPolicy()


def flood_report(rng: random.Random, submitter: str) -> Report:
    macs = [f"{rng.getrandbits(48) & 0xFEFFFFFFFFFF:012x}" for _ in range(200)]
    return Report(
        timestamp=1, latitude=52.5, longitude=13.4, accuracy=10.0, submitter=submitter,
        bluetooth=tuple(BlueObservation(mac=mac) for mac in macs),
    )  # fmt: skip


def locatable(stores: Stores) -> dict[str, KnownStation]:
    return known({k: r for k, r in stores.stations.stations.items() if not k.startswith("hash#")})


def test_a_flood_from_one_source_makes_few_stations_locatable() -> None:
    stores = _stores()
    rng = random.Random(1)
    request = [flood_report(rng, "flooder") for _ in range(10)]  # the 65 KB request
    result = process_reports(request, stores, NOW, message_id="m1")
    assert len(locatable(stores)) == POLICY.single_report_per_day == 200
    assert result.changes["new_held"] == 2_000 - 200
    # The next requests of the same day: nothing more becomes locatable, and after the held
    # budget nothing more is even stored.
    for index in range(2, 12):
        process_reports(
            [flood_report(rng, "flooder") for _ in range(10)], stores, NOW, message_id=f"m{index}"
        )
    assert len(locatable(stores)) == 200
    held = [r for r in stores.stations.stations.values() if r.held]
    assert len(held) == POLICY.held_per_day
    assert len(stores.stations.stations) == 200 + POLICY.held_per_day  # writes stay bounded too
    # A new day gives the source a new (bounded) budget.
    process_reports([flood_report(rng, "flooder")], stores, NOW + timedelta(days=1), message_id="next")
    assert len(locatable(stores)) == 400


def survey(networks: int, reports: int, seed: int, submitter: str) -> list[Report]:
    """A walk that passes each network several times: each network is seen by ~15 reports."""
    rng = random.Random(seed)
    macs = [f"00163e{index:06x}" for index in range(networks)]
    out = []
    for step in range(reports):
        first = (step * networks) // reports
        seen = [macs[(first + offset) % networks] for offset in range(-7, 8)]
        north = step * 2.0 + rng.uniform(-5, 5)
        out.append(
            Report(
                timestamp=1, latitude=52.5 + north / 111_320, longitude=13.4 + rng.uniform(-1e-4, 1e-4),
                accuracy=8.0, submitter=submitter,
                wifi=tuple(WifiObservation(mac=mac, signal=-60) for mac in seen),
                cells=(CellObservation(radio=Radio.LTE, mcc=262, mnc="01", lac=7, cid=1 + step // 200),),
            )
        )  # fmt: skip
    return out


def test_an_honest_first_survey_is_learned_whole() -> None:
    stores = _stores()
    reports = survey(600, 2_000, seed=3, submitter="stumbler")
    for start in range(0, len(reports), 200):  # as the queue packs a 2 000-report upload
        process_reports(reports[start : start + 200], stores, NOW, message_id=f"s{start}")
    assert len([k for k in locatable(stores) if k.startswith("wifi#")]) == 600
    assert len([k for k in locatable(stores) if k.startswith("cell#")]) == 10
    assert not any(r.held for r in stores.stations.stations.values())


def test_a_single_report_still_teaches_a_new_cell_and_a_network_pair() -> None:
    stores = _stores()
    single = Report(
        timestamp=1, latitude=52.5, longitude=13.4, accuracy=10.0, submitter="someone",
        wifi=(WifiObservation(mac="00163e000001"), WifiObservation(mac="00163e000002")),
        cells=(CellObservation(radio=Radio.LTE, mcc=262, mnc="01", lac=7, cid=99),),
    )  # fmt: skip
    process_reports([single], stores, NOW, message_id="one")
    assert set(locatable(stores)) == {"wifi#00163e000001", "wifi#00163e000002", "cell#lte#262#01#7#99"}


def test_held_stations_are_released_when_another_source_sees_them() -> None:
    stores = _stores()
    rng = random.Random(7)
    flood = [flood_report(rng, "flooder") for _ in range(2)]
    process_reports(flood, stores, NOW, message_id="f")
    held = sorted(k for k, r in stores.stations.stations.items() if r.held)
    assert len(held) == 200
    mac = held[0].split("#", 1)[1]
    honest = Report(
        timestamp=1, latitude=52.5, longitude=13.4, accuracy=10.0, submitter="passer-by",
        bluetooth=(BlueObservation(mac=mac),),
    )  # fmt: skip
    result = process_reports([honest], stores, NOW, message_id="h")
    assert result.changes[Change.CHANGE] == 1
    assert held[0] in locatable(stores)


def test_admission_spends_in_one_place_per_source() -> None:
    budgets = MemorySourceBudgets()
    small = AdmissionPolicy(single_report_per_day=1, new_per_day=3, held_per_day=1)
    admission = NewStations(budgets, "2026-11-23", small)

    def observations(reports: int, source: str) -> list[StationObservation]:
        return [StationObservation(52.5, 13.4, 1.0, None, None, source, index) for index in range(reports)]

    shapes = {
        "wifi#a": (2, "s"),
        "wifi#b": (1, "s"),
        "wifi#c": (1, "s"),
        "wifi#d": (3, "s"),
        "wifi#e": (1, "t"),
    }
    decided = admission.admit({key: observations(*shape) for key, shape in shapes.items()})
    # Source s: a and d (several reports) first, then one single-report station (b); c over the
    # single-report budget is held; source t has a budget of its own.
    assert decided == {
        "wifi#a": Admission.LOCATABLE, "wifi#d": Admission.LOCATABLE, "wifi#b": Admission.LOCATABLE,
        "wifi#c": Admission.HELD, "wifi#e": Admission.LOCATABLE,
    }  # fmt: skip
    again = admission.admit({"wifi#f": observations(2, "s"), "wifi#g": observations(2, "s")})
    assert again == {"wifi#f": Admission.DROPPED, "wifi#g": Admission.DROPPED}  # budgets spent
    assert budgets.counters["s#2026-11-23"] == {"single": 2, "fresh": 6, "held": 3}
    assert len(budgets.counters) == 2
