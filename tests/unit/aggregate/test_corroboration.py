"""Independent evidence before an established station moves, blocks or is withdrawn (docs/abuse.md)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.aggregate.corroboration import MAX_DAYS, MAX_SOURCES, Quorum, current, met, quorum, supported
from openloc.aggregate.footprint import (
    LOUDEST_AT_1M_DBM,
    LOUDNESS_MARGIN_DB,
    expected_level,
)
from openloc.aggregate.station_update import (
    JUDGED_SAMPLES,
    UNCERTAINTY_M,
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
from openloc.model.kinds import StationKind
from openloc.model.records import Evidence, Footprint, StationRecord

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


# --- loud observations (docs/abuse.md: pulling) ----------------------------------------------------

P1 = -35.0  # the test footprint's level at 1 m
# Eight bins around the station, 20–60 m away, at the levels of the path-loss model (n = 2.5).
RING = Footprint(
    tuple(
        (round(d * math.cos(k)), round(d * math.sin(k)), 3, round(P1 - 25 * math.log10(d), 1))
        for k, d in zip(
            (0.0, 0.8, 1.6, 2.4, 3.2, 4.0, 4.8, 5.6), (20, 30, 40, 50, 60, 25, 35, 45), strict=True
        )
    )
)


def heard(north_m: float, signal: int, source: str = "s", report: int = 0) -> StationObservation:
    return replace(at(north_m, source, report=report), signal=signal)


def fitted(samples: int, reach: float = 40.0) -> StationRecord:
    return replace(station(samples), footprint=RING, reach=reach)


def test_expected_level_follows_the_footprint() -> None:
    record = fitted(500)
    expected = expected_level(StationKind.WIFI, record)
    assert expected is not None
    at_300 = expected(LAT + math.degrees(300 / EARTH_RADIUS_M), LON)
    assert at_300 == pytest.approx(P1 - 25 * math.log10(300), abs=0.3)
    # A young station may be off by its reach: the distance counts that much less.
    young = expected_level(StationKind.WIFI, fitted(10, reach=60.0), uncertainty_m=60.0)
    assert young is not None
    assert young(LAT + math.degrees(300 / EARTH_RADIUS_M), LON) == pytest.approx(
        P1 - 25 * math.log10(240), abs=0.3
    )
    assert expected_level(StationKind.WIFI, station(500)) is None  # no footprint: nothing to judge by
    assert expected_level(StationKind.CELL, fitted(500)) is None


def test_loud_bins_next_to_the_station_cannot_raise_the_expected_level() -> None:
    shouting = Footprint(tuple((1, 0, 1000, 0.0) for _ in range(4)) + RING.bins)
    expected = expected_level(StationKind.WIFI, replace(fitted(500), footprint=shouting))
    assert expected is not None
    # bins nearer than 20 m count as 20 m away and no transmitter is louder than −10 dBm at 1 m
    assert expected(LAT, LON + 0.01) <= LOUDEST_AT_1M_DBM - 25 * math.log10(678) + 0.5


def test_one_source_heard_far_too_loud_only_challenges_an_established_station() -> None:
    """The pull: one report 300 m away at −30 dBm, as if next to the access point. Within the
    consistency distance, so before it merged; now it is as good as far."""
    record = fitted(500)
    for attempt in range(5):
        update = update_station(
            WIFI, record, [heard(300, -30, "liar", attempt)], NOW + timedelta(days=attempt)
        )
        assert update.change is Change.CHALLENGE
        record = written(update)
        assert (record.lat, record.lon, record.samples, record.footprint) == (LAT, LON, 500, RING)
    # Ichnaea's policy (corroboration off) takes it: the station moves towards the loud report.
    pulled = written(
        update_station(WIFI, fitted(500), [heard(300, -30)], NOW, UpdatePolicy(corroborate=False))
    )
    assert haversine_m(LAT, LON, pulled.lat, pulled.lon) > 100  # type: ignore[arg-type]


def test_a_young_station_needs_two_sources_for_a_loud_observation() -> None:
    record = fitted(10)
    update = update_station(WIFI, record, [heard(300, -30, "a")], NOW)
    assert update.change is Change.CHALLENGE and (written(update).lat, written(update).lon) == (LAT, LON)
    moved = update_station(WIFI, written(update), [heard(305, -32, "b")], NOW)
    assert moved.change is Change.REPLACE  # two sources: a young station that really moved
    assert haversine_m(LAT, LON, written(moved).lat, written(moved).lon) > 290  # type: ignore[arg-type]


def test_observations_as_loud_as_expected_still_merge() -> None:
    update = update_station(WIFI, fitted(500), [heard(300, -95)], NOW)
    assert update.change is Change.CHANGE
    assert haversine_m(LAT, LON, written(update).lat, written(update).lon) < 10  # type: ignore[arg-type]


def test_the_limit_is_the_expected_level_plus_the_margin() -> None:
    """A judged station may be its reach, at least 60 m, from its stored position; an observation
    at the limit is taken, one decibel over it is not."""
    expected = P1 - 25 * math.log10(300 - UNCERTAINTY_M)
    limit = math.floor(expected + LOUDNESS_MARGIN_DB)
    assert update_station(WIFI, fitted(500), [heard(300, limit)], NOW).change is Change.CHANGE
    assert update_station(WIFI, fitted(500), [heard(300, limit + 1)], NOW).change is Change.CHALLENGE
    # next to the station, even the loudest level is its own
    assert update_station(WIFI, fitted(500), [heard(50, -20)], NOW).change is Change.CHANGE


def test_stations_with_few_samples_are_not_judged_by_loudness() -> None:
    update = update_station(WIFI, fitted(JUDGED_SAMPLES - 1), [heard(300, -30)], NOW)
    assert update.change is Change.CHANGE


def test_a_loud_observation_among_fitting_ones_of_its_source_is_a_glitch_and_dropped() -> None:
    """A phone whose GPS jumped for one scan: its other observations of the station fit, so the
    loud one is dropped rather than kept as a challenge (it would otherwise count towards a move)."""
    batch = [heard(40, -75, "walker"), heard(45, -76, "walker"), heard(300, -40, "walker")]
    update = update_station(WIFI, fitted(500), batch, NOW)
    assert update.change is Change.CHANGE and update.observations == 2
    record = written(update)
    assert record.challenge is None and record.samples == 502
    assert haversine_m(LAT, LON, record.lat, record.lon) < 10  # type: ignore[arg-type]
    # Another source's loud observation in the same batch is still a challenge.
    mixed = update_station(WIFI, fitted(500), [*batch, heard(300, -40, "liar")], NOW)
    assert mixed.change is Change.CHALLENGE
    assert written(mixed).challenge is not None and written(mixed).challenge.evidence.sources == ("liar",)  # type: ignore[union-attr]
