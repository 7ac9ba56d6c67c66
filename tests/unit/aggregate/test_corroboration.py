"""Independent evidence before an established station moves, blocks or is withdrawn (docs/abuse.md)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from openloc.aggregate.corroboration import MAX_DAYS, MAX_SOURCES, Quorum, current, met, quorum, supported
from openloc.aggregate.station_update import (
    AggregatedStation,
    Change,
    OptOutSighting,
    StationObservation,
    UpdatePolicy,
    merge_aggregated,
    opt_out,
    update_station,
)
from openloc.geo.distance import EARTH_RADIUS_M, haversine_m
from openloc.model.records import Evidence, StationRecord

from tests.unit.aggregate.support import KEYS, LAT, LON, NOW, TODAY, WIFI, positioned, written

POLICY = UpdatePolicy()
BLUE = KEYS["blue"]  # type: ignore[index]


def at(north_m: float, source: str | None, weight: float = 1.0, report: int = 0) -> StationObservation:
    return StationObservation(
        LAT + math.degrees(north_m / EARTH_RADIUS_M), LON, weight, None, None, source, report
    )


def station(samples: int) -> StationRecord:
    return positioned(samples=samples, weight=float(samples), modified=NOW - timedelta(days=3))


def test_quorum_grows_with_the_samples() -> None:
    assert quorum(19, POLICY) is None
    assert quorum(20, POLICY) == Quorum(sources=2, days=1)
    assert quorum(49, POLICY) == Quorum(sources=2, days=1)
    assert quorum(50, POLICY) == quorum(10_000, POLICY) == Quorum(sources=3, days=2)
    assert quorum(10_000, UpdatePolicy(corroborate=False)) is None


def test_one_source_only_challenges_an_established_station() -> None:
    trusted = station(500)
    for attempt in range(5):  # one liar, however often it reports
        update = update_station(
            WIFI, trusted, [at(50_000, "liar", report=attempt)], NOW + timedelta(days=attempt)
        )
        assert update.change is Change.CHALLENGE
        trusted = written(update)
        assert (trusted.lat, trusted.lon, trusted.samples) == (LAT, LON, 500)
    assert trusted.challenge is not None and trusted.challenge.evidence.sources == ("liar",)


def test_three_sources_on_two_days_move_a_trusted_station() -> None:
    record = station(500)
    moved_to = 50_000
    for day, source in ((0, "a"), (0, "b"), (0, "c")):
        record = written(update_station(WIFI, record, [at(moved_to, source)], NOW + timedelta(days=day)))
    assert record.positioned and record.lat == LAT  # three sources, but one day
    update = update_station(WIFI, record, [at(moved_to + 10, "a")], NOW + timedelta(days=1))
    assert update.change is Change.REPLACE
    moved = written(update)
    assert haversine_m(LAT, LON, moved.lat, moved.lon) > 49_000  # type: ignore[arg-type]
    assert moved.samples == 500 and moved.weight == 4 and moved.challenge is None and moved.block_count == 0
    # It keeps its standing: one source cannot take it back either.
    back = update_station(WIFI, moved, [at(0, "d")], NOW + timedelta(days=2))
    assert back.change is Change.CHALLENGE


def test_an_inconsistent_quorum_blocks() -> None:
    record = station(30)  # 2 sources, one day
    record = written(update_station(WIFI, record, [at(50_000, "a")], NOW))
    update = update_station(WIFI, record, [at(-50_000, "b")], NOW)
    assert update.change is Change.BLOCK and not written(update).positioned


def test_near_observations_still_update_a_challenged_station() -> None:
    record = station(100)
    update = update_station(WIFI, record, [at(10, "honest"), at(50_000, "liar")], NOW)
    assert update.change is Change.CHALLENGE
    kept = written(update)
    assert kept.samples == 101 and kept.modified == NOW and kept.challenge is not None
    assert haversine_m(LAT, LON, kept.lat, kept.lon) < 10  # type: ignore[arg-type]


def test_young_stations_follow_ichnaea() -> None:
    young = station(19)
    assert update_station(WIFI, young, [at(50_000, "a")], NOW).change is Change.BLOCK


def test_stale_evidence_is_forgotten() -> None:
    record = station(100)
    for day, source in ((0, "a"), (1, "b")):
        record = written(update_station(WIFI, record, [at(50_000, source)], NOW + timedelta(days=day)))
    late = NOW + timedelta(days=POLICY.window_days + 1)
    update = update_station(WIFI, record, [at(50_000, "c")], late)
    assert update.change is Change.CHALLENGE  # a and b expired: c starts a new challenge
    assert written(update).challenge.evidence.sources == ("c",)  # type: ignore[union-attr]


@given(st.lists(st.text("abcdef", min_size=1, max_size=3), max_size=40), st.integers(0, 10))
def test_evidence_is_capped_and_order_free(sources: list[str], days: int) -> None:
    evidence = None
    for index, source in enumerate(sources):
        evidence = supported(evidence, [source], (TODAY + timedelta(days=index % (days + 1))).isoformat())
    if evidence is None:
        return
    assert len(evidence.sources) <= MAX_SOURCES and len(evidence.days) <= MAX_DAYS
    again = None
    for index, source in reversed(list(enumerate(sources))):
        again = supported(again, [source], (TODAY + timedelta(days=index % (days + 1))).isoformat())
    assert again == evidence
    assert met(evidence, Quorum(1, 1))
    assert current(evidence, TODAY, 10_000) == evidence


# --- opt-outs --------------------------------------------------------------------------------


def sighting(north_m: float, source: str) -> OptOutSighting:
    return OptOutSighting(LAT + math.degrees(north_m / EARTH_RADIUS_M), LON, source)


def test_an_opt_out_near_the_station_withdraws_it_at_once() -> None:
    update = opt_out(WIFI, station(500), [sighting(300, "owner")], NOW)
    assert update.change is Change.OPT_OUT and not written(update).positioned


def test_an_opt_out_from_afar_needs_a_quorum() -> None:
    record = station(500)
    for day, source in ((0, "x"), (0, "y")):
        update = opt_out(WIFI, record, [sighting(900_000, source)], NOW + timedelta(days=day))
        assert update.change is Change.OPT_OUT_EVIDENCE
        record = written(update)
        assert record.positioned
    assert opt_out(WIFI, record, [sighting(900_000, "z")], NOW).change is Change.OPT_OUT_EVIDENCE  # one day
    withdrawn = opt_out(WIFI, record, [sighting(900_000, "z")], NOW + timedelta(days=1))
    assert withdrawn.change is Change.OPT_OUT


def test_even_a_young_station_needs_two_sources_from_afar() -> None:
    record = station(3)
    first = opt_out(WIFI, record, [sighting(10_000, "x")], NOW)
    assert first.change is Change.OPT_OUT_EVIDENCE
    assert opt_out(WIFI, written(first), [sighting(10_000, "x")], NOW).change is Change.OPT_OUT_EVIDENCE
    assert opt_out(WIFI, written(first), [sighting(10_000, "y")], NOW).change is Change.OPT_OUT


def test_bluetooth_reach_is_short() -> None:
    assert opt_out(BLUE, station(500), [sighting(90, "owner")], NOW).change is Change.OPT_OUT
    assert opt_out(BLUE, station(500), [sighting(400, "owner")], NOW).change is Change.OPT_OUT_EVIDENCE


def test_opt_outs_create_nothing() -> None:
    assert opt_out(WIFI, None, [sighting(0, "x")], NOW).record is None


# --- held new stations, instance sync --------------------------------------------------------


def test_a_held_station_is_released_by_another_source() -> None:
    held = replace(station(1), held=True, first_source="flooder")
    again = written(update_station(WIFI, held, [at(5, "flooder")], NOW))
    assert again.held and again.first_source == "flooder"
    released = written(update_station(WIFI, held, [at(5, "someone else")], NOW))
    assert not released.held and released.first_source is None


def test_instance_sync_respects_an_opt_out_hold() -> None:
    withdrawn = replace(station(0), lat=None, lon=None, optout_last=TODAY.isoformat())
    item = AggregatedStation(lat=LAT, lon=LON, weight=5.0, samples=5)
    assert merge_aggregated(WIFI, withdrawn, item, NOW).change is Change.OPTED_OUT
    expired = replace(withdrawn, optout_last=(TODAY - timedelta(days=400)).isoformat())
    assert merge_aggregated(WIFI, expired, item, NOW).change is Change.CHANGE


def test_evidence_round_trips_through_its_stored_form() -> None:
    from openloc.model.records import Challenge, evidence_from_json, evidence_to_json

    record = written(update_station(WIFI, station(500), [at(50_000, "a")], NOW))
    assert record.challenge is not None
    assert Challenge.from_json(record.challenge.to_json()) == record.challenge
    evidence = Evidence(("a", "b"), ("2026-11-23",))
    assert evidence_from_json(evidence_to_json(evidence)) == evidence
