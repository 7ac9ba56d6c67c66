"""The station updater: what one batch of weighted observations does to one station.

Follows Ichnaea's transition table (data/station.py). The batch is *consistent* when the diagonal
of its bounding box is within the kind's maximum distance (Bluetooth 100 m, Wi-Fi 5 km, cell
100 km); it *agrees* with a positioned station when every observation is within that distance of
the station's centre.

- no station: consistent → NEW (weighted mean); inconsistent → NEW_BLOCK (no position, blocked).
- currently blocked (`station_blocked`) → BLOCKED: the observations are ignored.
- station without position: consistent → CHANGE (positioned from the batch); else IGNORED.
- positioned, consistent and agreeing → CHANGE: the centre moves towards the batch by its weight
  against the station's own (capped at 10 000, so old stations stay responsive). A well
  established station (`UpdatePolicy`) is not merged: CONFIRM (only last_seen) or SETTLED.
- positioned, disagreeing, not modified for `old_days`, consistent → REPLACE by the batch alone.
- otherwise (inconsistent, or disagreeing while not old) → BLOCK: the position is cleared.

Poisoning resistance (docs/abuse.md): disagreeing observations of an established station are kept
as a *challenge* until independent sources back them (`aggregate.corroboration`). A Wi-Fi or
Bluetooth observation also disagrees when it is heard far louder than the station's footprint
expects where it was made (`_by_loudness`): one report a few hundred metres away at −30 dBm would
otherwise pull the fitted position to itself.

Privacy additions (docs/privacy.md): a Wi-Fi/Bluetooth station keeps the `model.identifiers` digest
of the name it is most often seen with (weighted majority vote over the batches, never the name
itself), and a station seen with an opt-out name is withdrawn (`opt_out_station`: OPT_OUT, position
and name digest cleared) and ignores observations (OPTED_OUT) until `optout_hold_days` after the
last opt-out sighting.

Pure: no I/O; sums are exactly rounded (`math.fsum`) so a batch's result does not depend on the
order of its observations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from openloc.aggregate.blocking import station_blocked
from openloc.aggregate.corroboration import Quorum, challenged, current, met, quorum, supported
from openloc.aggregate.footprint import LOUDNESS_MARGIN_DB, MODELS, Heard, Placement, expected_level
from openloc.aggregate.footprint import place as placement
from openloc.geo.distance import bbox_radius_m, haversine_m
from openloc.model.keys import key_kind
from openloc.model.kinds import StationKind
from openloc.model.records import StationRecord

MAX_DISTANCE_M = {StationKind.WIFI: 5_000.0, StationKind.BLUE: 100.0, StationKind.CELL: 100_000.0}
OLD_WEIGHT_CAP = 10_000.0
WEIGHT_CAP = 1e9
SAMPLES_CAP = 2**32 - 1


@dataclass(frozen=True, slots=True)
class StationObservation:
    lat: float
    lon: float
    weight: float
    psc: int | None = None
    name_hash: str | None = None  # Wi-Fi/Bluetooth: v1 digest of the SSID/beacon name seen with it
    source: str | None = None  # who reported it (`api.sources`; None: unknown)
    report: int = 0  # which report of its message it came from (new-station corroboration)
    signal: int | None = None  # Wi-Fi/Bluetooth: the signal it was heard at (dBm), for the footprint


class Change(StrEnum):
    """What a batch of observations did to a station."""

    NEW = "new"
    CHANGE = "change"
    REPLACE = "replace"
    CONFIRM = "confirm"
    BLOCK = "block"
    NEW_BLOCK = "new_block"
    BLOCKED = "blocked"  # the station is currently blocked: observations ignored
    SETTLED = "settled"  # rate control: agreeing observations on a well-established station
    IGNORED = "ignored"  # nothing usable (no positive weight, or inconsistent on an unpositioned row)
    OPT_OUT = "opt_out"  # seen with an opt-out name: position and name digest withdrawn
    OPTED_OUT = "opted_out"  # withdrawn by its owner: observations ignored
    CHALLENGE = "challenge"  # disagreeing observations kept as evidence until a quorum backs them
    OPT_OUT_EVIDENCE = "opt_out_evidence"  # an opt-out sighting from afar, kept until corroborated


@dataclass(frozen=True)
class UpdatePolicy:
    """Rate control: a station with at least `settle_samples` samples, modified less than
    `settle_seconds` ago, is well established and agreeing observations are not merged into it
    (`settle_seconds=0` disables this). A station not modified for `old_days` may be replaced by
    consistent observations that disagree with it.

    Corroboration (`aggregate.corroboration`, docs/abuse.md): from `established_samples` samples
    on, disagreeing observations and opt-outs from afar change a station only once independent
    sources back them (more from `trusted_samples` on), within `window_days`. `corroborate=False`
    is Ichnaea's behaviour, where every batch acts on its own."""

    settle_samples: int = 100
    settle_seconds: int = 86_400
    old_days: int = 365
    optout_hold_days: int = 365
    corroborate: bool = True
    # Wi-Fi/Bluetooth positions fitted to their footprint (`aggregate.footprint`), and reports of GPS
    # glitches dropped (`aggregate.grouping.gps_glitches`); False keeps Ichnaea's weighted mean of
    # every observation (the accuracy benchmark's baselines and previous engine use it).
    fit_positions: bool = True
    established_samples: int = 20
    trusted_samples: int = 50
    window_days: int = 30


@dataclass(frozen=True)
class StationUpdate:
    change: Change
    record: StationRecord | None  # the record to write; None when nothing is written
    observations: int  # usable observations considered (positive, finite weight and position)


def _dominant_psc(observations: Sequence[StationObservation]) -> int | None:
    """The PSC/PCI with the most observation weight (ties: the smaller code), order-independent."""
    weights: dict[int, list[float]] = {}
    for observation in observations:
        if observation.psc is not None:
            weights.setdefault(observation.psc, []).append(observation.weight)
    if not weights:
        return None
    totals = {code: math.fsum(values) for code, values in weights.items()}
    return min(totals, key=lambda code: (-totals[code], code))


def max_distance_m(key: str) -> float:
    """The kind's consistency distance for a station key."""
    kind = key_kind(key)
    if kind is None:
        raise ValueError(f"not a station key: {key!r}")
    return MAX_DISTANCE_M[kind]


@dataclass(frozen=True, slots=True)
class _Aggregate:
    lat: float
    lon: float
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float
    weight: float
    samples: int
    consistent: bool

    @property
    def radius(self) -> int:
        corners = (self.min_lat, self.min_lon, self.max_lat, self.max_lon)
        return round(bbox_radius_m(self.lat, self.lon, *corners))


def _clamp(value: float, low: float, high: float) -> float:
    """A weighted mean kept inside its bounding box despite last-ulp rounding."""
    return min(max(value, low), high)


def _aggregate(observations: Sequence[StationObservation], max_distance: float) -> _Aggregate:
    """Weighted centre and bounding box of a non-empty batch with positive weights."""
    total = math.fsum(o.weight for o in observations)
    min_lat = min(o.lat for o in observations)
    max_lat = max(o.lat for o in observations)
    min_lon = min(o.lon for o in observations)
    max_lon = max(o.lon for o in observations)
    return _Aggregate(
        lat=_clamp(math.fsum(o.lat * o.weight for o in observations) / total, min_lat, max_lat),
        lon=_clamp(math.fsum(o.lon * o.weight for o in observations) / total, min_lon, max_lon),
        min_lat=min_lat,
        max_lat=max_lat,
        min_lon=min_lon,
        max_lon=max_lon,
        weight=total,
        samples=len(observations),
        consistent=haversine_m(min_lat, min_lon, max_lat, max_lon) <= max_distance,
    )


def _usable(observation: StationObservation) -> bool:
    return (
        observation.weight > 0
        and math.isfinite(observation.weight)
        and math.isfinite(observation.lat)
        and math.isfinite(observation.lon)
    )


Placer = Callable[[StationRecord | None, int, tuple[float, float]], Placement | None]


def _placed(
    lat: float, lon: float, box: tuple[float, float, float, float], placement: Placement | None
) -> dict[str, Any]:
    """Position, bbox and radius fields: the weighted mean's, or the fitted placement's (the bbox
    grown to hold it, since a fitted access point may lie off the street it was heard from)."""
    min_lat, max_lat, min_lon, max_lon = box
    extra: dict[str, Any] = {}
    if placement is not None:
        lat, lon = placement.lat, placement.lon
        min_lat, max_lat = min(min_lat, lat), max(max_lat, lat)
        min_lon, max_lon = min(min_lon, lon), max(max_lon, lon)
        extra = {"footprint": placement.footprint, "reach": placement.reach}
    return {
        "lat": lat,
        "lon": lon,
        "min_lat": min_lat,
        "max_lat": max_lat,
        "min_lon": min_lon,
        "max_lon": max_lon,
        "radius": round(bbox_radius_m(lat, lon, min_lat, min_lon, max_lat, max_lon)),
        "footprint": None,
        "reach": 0.0,
        **extra,
    }


def _position_from(
    base: StationRecord, new: _Aggregate, psc: int | None, now: datetime, place: Placer | None = None
) -> StationRecord:
    """`base` positioned by the batch alone, its samples and weight added to (NEW, CHANGE of an
    unpositioned row) — or, for REPLACE, `base` with samples and weight already reset."""
    samples = min(base.samples + new.samples, SAMPLES_CAP)
    placement = place(None, samples, (new.lat, new.lon)) if place is not None else None
    box = (new.min_lat, new.max_lat, new.min_lon, new.max_lon)
    return replace(
        base,
        **_placed(new.lat, new.lon, box, placement),
        samples=samples,
        weight=min(base.weight + new.weight, WEIGHT_CAP),
        psc=psc if psc is not None else base.psc,
        created=base.created or now,
        modified=now,
        last_seen=now.date().isoformat(),
        version=base.version + 1,
    )


def _merge(
    station: StationRecord, new: _Aggregate, psc: int | None, now: datetime, place: Placer | None = None
) -> StationRecord:
    """Ichnaea's "change" of a positioned station (its position fitted by `place` when given)."""
    assert station.lat is not None and station.lon is not None
    old_weight = min(station.weight, OLD_WEIGHT_CAP)
    min_lat = min(new.min_lat, station.min_lat if station.min_lat is not None else station.lat, station.lat)
    max_lat = max(new.max_lat, station.max_lat if station.max_lat is not None else station.lat, station.lat)
    min_lon = min(new.min_lon, station.min_lon if station.min_lon is not None else station.lon, station.lon)
    max_lon = max(new.max_lon, station.max_lon if station.max_lon is not None else station.lon, station.lon)
    total = new.weight + old_weight
    lat = _clamp((new.lat * new.weight + station.lat * old_weight) / total, min_lat, max_lat)
    lon = _clamp((new.lon * new.weight + station.lon * old_weight) / total, min_lon, max_lon)
    samples = min(station.samples + new.samples, SAMPLES_CAP)
    placement = place(station, samples, (lat, lon)) if place is not None else None
    return replace(
        station,
        **_placed(lat, lon, (min_lat, max_lat, min_lon, max_lon), placement),
        samples=samples,
        weight=min(station.weight + new.weight, WEIGHT_CAP),
        psc=psc if psc is not None else station.psc,
        created=station.created or now,
        modified=now,
        last_seen=now.date().isoformat(),
        version=station.version + 1,
    )


def _cleared(station: StationRecord, **changes: Any) -> StationRecord:
    """The station without position, extent, samples, weight or last sighting, plus `changes`."""
    return replace(
        station,
        lat=None,
        lon=None,
        min_lat=None,
        max_lat=None,
        min_lon=None,
        max_lon=None,
        radius=0.0,
        samples=0,
        weight=0.0,
        last_seen=None,
        footprint=None,
        reach=0.0,
        **changes,
    )


def _block(station: StationRecord, now: datetime) -> StationRecord:
    """Ichnaea's "block": position, samples, weight and last_seen cleared; region, created and
    PSC kept; the block recorded."""
    today = now.date().isoformat()
    return _cleared(
        station,
        block_first=station.block_first or today,
        block_last=today,
        block_count=station.block_count + 1,
        modified=now,
        version=station.version + 1,
    )


def _well_established(station: StationRecord, now: datetime, policy: UpdatePolicy) -> bool:
    return (
        policy.settle_seconds > 0
        and station.samples >= policy.settle_samples
        and station.modified is not None
        and now - station.modified < timedelta(seconds=policy.settle_seconds)
    )


def _old(station: StationRecord, now: datetime, policy: UpdatePolicy) -> bool:
    """Not modified for more than `old_days` (a station with no modified time counts as old)."""
    return station.modified is None or now - station.modified > timedelta(days=policy.old_days)


def _name_vote(observations: Sequence[StationObservation]) -> tuple[str, int] | None:
    """The batch's most frequent name digest and its count (ties: the smaller digest)."""
    counts: dict[str, int] = {}
    for observation in observations:
        if observation.name_hash is not None:
            counts[observation.name_hash] = counts.get(observation.name_hash, 0) + 1
    if not counts:
        return None
    best = min(counts, key=lambda digest: (-counts[digest], digest))
    return best, counts[best]


def with_name_vote(record: StationRecord, observations: Sequence[StationObservation]) -> StationRecord:
    """Weighted Boyer–Moore majority vote: the stored digest gains the batch's votes for it and
    loses the votes for a competitor, which takes over when it outvotes the stored margin."""
    vote = _name_vote(observations)
    if vote is None:
        return record
    digest, count = vote
    if record.name_hash == digest:
        return replace(record, name_votes=min(record.name_votes + count, SAMPLES_CAP))
    if record.name_hash is None or count > record.name_votes:
        return replace(record, name_hash=digest, name_votes=count - record.name_votes)
    return replace(record, name_votes=record.name_votes - count)


def opted_out(station: StationRecord, today: date, policy: UpdatePolicy) -> bool:
    """Withdrawn by an opt-out sighting less than `optout_hold_days` ago."""
    if station.optout_last is None:
        return False
    return today - date.fromisoformat(station.optout_last) < timedelta(days=policy.optout_hold_days)


def opt_out_station(station: StationRecord, now: datetime) -> StationRecord:
    """The station as withdrawn by an opt-out sighting: no position, no name digest, no samples."""
    return _cleared(
        station,
        name_hash=None,
        name_votes=0,
        challenge=None,
        optout_evidence=None,
        optout_last=now.date().isoformat(),
        modified=now,
        version=station.version + 1,
    )


# How far from a station an opt-out sighting may be to act on its own: the station's own radius,
# or the kind's typical reach when that is larger (docs/abuse.md). Farther sightings need a quorum.
OPTOUT_REACH_M = {StationKind.WIFI: 500.0, StationKind.BLUE: 100.0, StationKind.CELL: 0.0}
# An opt-out from afar needs at least this much support, however young the station.
FAR_OPTOUT_QUORUM = Quorum(sources=2, days=1)
# Observations heard far louder than a young station can be where they were made need this much
# support too (`_by_loudness`, docs/abuse.md). A station is judged by its loudness from
# JUDGED_SAMPLES on, and may be its reach, and at least UNCERTAINTY_M, from where its footprint
# puts it (a network placed on the wrong side of its street is heard loudly on the right one).
LOUD_QUORUM = Quorum(sources=2, days=1)
JUDGED_SAMPLES = 6
UNCERTAINTY_M = 60.0


@dataclass(frozen=True, slots=True)
class OptOutSighting:
    """A report that saw the station with an opt-out name: where, and from which source."""

    lat: float
    lon: float
    source: str | None = None


def opt_out(
    key: str,
    station: StationRecord | None,
    sightings: Sequence[OptOutSighting],
    now: datetime,
    policy: UpdatePolicy = UpdatePolicy(),
) -> StationUpdate:
    """What opt-out sightings do to a station: withdraw it (OPT_OUT) when one of them is within the
    station's reach (where its owner can be), or when enough independent sources report it;
    otherwise they are kept as evidence (OPT_OUT_EVIDENCE) and the station stays. An unknown or
    already withdrawn station stays as it is: an opt-out creates nothing."""
    today = now.date()
    if station is None or (station.optout_last == today.isoformat() and not station.positioned):
        return StationUpdate(Change.OPTED_OUT, None, 0)
    if not policy.corroborate:
        return StationUpdate(Change.OPT_OUT, opt_out_station(station, now), 0)
    if station.lat is not None and station.lon is not None:
        kind = key_kind(key)
        reach = max(station.radius, OPTOUT_REACH_M[kind] if kind is not None else 0.0)
        if any(haversine_m(station.lat, station.lon, s.lat, s.lon) <= reach for s in sightings):
            return StationUpdate(Change.OPT_OUT, opt_out_station(station, now), 0)
    needed = quorum(station.samples, policy) or FAR_OPTOUT_QUORUM
    needed = Quorum(max(needed.sources, FAR_OPTOUT_QUORUM.sources), needed.days)
    previous = current(station.optout_evidence, today, policy.window_days)
    sources = [s.source for s in sightings if s.source is not None]
    evidence = supported(previous, sources, today.isoformat())
    if met(evidence, needed):
        return StationUpdate(Change.OPT_OUT, opt_out_station(station, now), 0)
    if evidence == station.optout_evidence:
        return StationUpdate(Change.OPT_OUT_EVIDENCE, None, 0)
    return StationUpdate(
        Change.OPT_OUT_EVIDENCE, replace(station, optout_evidence=evidence, version=station.version + 1), 0
    )


_NO_VOTE = frozenset({Change.BLOCK, Change.NEW_BLOCK})


def update_station(
    key: str,
    station: StationRecord | None,
    observations: Sequence[StationObservation],
    now: datetime,
    policy: UpdatePolicy = UpdatePolicy(),  # frozen: a shared default is safe
) -> StationUpdate:
    """What the batch `observations` does to `station` (None: no row yet) at `now`."""
    update = _update_position(key, station, observations, now, policy)
    if update.record is None:
        return update
    if station is not None and station.held:
        others = {o.source for o in observations if o.source is not None} - {station.first_source}
        if others:  # another source saw it too: corroborated, no longer held back
            update = replace(update, record=replace(update.record, held=False, first_source=None))
    if update.change in _NO_VOTE or all(o.name_hash is None for o in observations):
        return update
    assert update.record is not None
    return replace(update, record=with_name_vote(update.record, [o for o in observations if _usable(o)]))


def _owner_hold(
    station: StationRecord | None, now: datetime, policy: UpdatePolicy
) -> tuple[StationUpdate | None, StationRecord | None]:
    """OPTED_OUT while the owner's opt-out holds; after the hold the station is learnt afresh.
    The one rule every writer applies (aggregator and instance sync alike)."""
    if station is None or station.optout_last is None:
        return None, station
    if opted_out(station, now.date(), policy):
        return StationUpdate(Change.OPTED_OUT, None, 0), station
    return None, replace(station, optout_last=None)


def _update_position(
    key: str,
    station: StationRecord | None,
    observations: Sequence[StationObservation],
    now: datetime,
    policy: UpdatePolicy,
) -> StationUpdate:
    withdrawn, station = _owner_hold(station, now, policy)
    if withdrawn is not None:
        return withdrawn
    usable = [o for o in observations if _usable(o)]
    if not usable:
        return StationUpdate(Change.IGNORED, None, 0)
    max_distance = max_distance_m(key)
    if station is not None and station.lat is not None and station.lon is not None:
        needed = quorum(station.samples, policy)
        lat, lon = station.lat, station.lon
        near: list[StationObservation] = []
        far: list[StationObservation] = []
        for o in usable:
            (far if haversine_m(lat, lon, o.lat, o.lon) > max_distance else near).append(o)
        # heard far louder than the station can be where they were made: as good as far
        # (docs/abuse.md); a young station needs a small quorum for them
        near, loud = _by_loudness(key, station, near, policy)
        if loud:
            if not far and needed is None:
                needed = LOUD_QUORUM
            far += loud
        usable = near + far
        blocked = station_blocked(station, now.date())
        if needed is not None and far and not blocked and not _old(station, now, policy):
            return _challenge(key, station, near, far, needed, now, policy)
    return _observed(key, station, usable, now, policy)


def _by_loudness(
    key: str, station: StationRecord, near: list[StationObservation], policy: UpdatePolicy
) -> tuple[list[StationObservation], list[StationObservation]]:
    """`near` split into the observations the station takes and those heard far louder than it can
    be where they were made (`aggregate.footprint.expected_level` + `LOUDNESS_MARGIN_DB`), which
    disagree with it. Those of a source whose other observations here fit are dropped instead: a
    GPS glitch, not a moved station. Only with corroboration and fitted positions (the service's
    policy)."""
    if not (policy.corroborate and policy.fit_positions) or station.samples < JUDGED_SAMPLES:
        return near, []
    expected = expected_level(key_kind(key), station, max(station.reach, UNCERTAINTY_M))
    if expected is None:
        return near, []
    taken: list[StationObservation] = []
    loud: list[StationObservation] = []
    for observation in near:
        too_loud = observation.signal is not None and (
            observation.signal > expected(observation.lat, observation.lon) + LOUDNESS_MARGIN_DB
        )
        (loud if too_loud else taken).append(observation)
    fitting = {o.source for o in taken if o.signal is not None}
    return taken, [o for o in loud if o.source not in fitting]


def _observed(
    key: str,
    station: StationRecord | None,
    usable: Sequence[StationObservation],
    now: datetime,
    policy: UpdatePolicy,
) -> StationUpdate:
    """Ichnaea's transition table for one batch of usable observations."""
    max_distance = max_distance_m(key)
    new = _aggregate(usable, max_distance)

    def agrees(lat: float, lon: float) -> bool:
        return all(haversine_m(lat, lon, o.lat, o.lon) <= max_distance for o in usable)

    kind = key_kind(key)
    place: Placer | None = None
    if policy.fit_positions and kind in MODELS:
        heard = [Heard(o.lat, o.lon, float(o.signal)) for o in usable if o.signal is not None]

        def place(base: StationRecord | None, samples: int, origin: tuple[float, float]) -> Placement | None:
            return placement(kind, base, heard, samples, origin)

    return _transition(key, station, new, _dominant_psc(usable), agrees, len(usable), now, policy, place)


def _sources(observations: Sequence[StationObservation]) -> list[str]:
    return [o.source for o in observations if o.source is not None]


def _challenge(
    key: str,
    station: StationRecord,
    near: Sequence[StationObservation],
    far: Sequence[StationObservation],
    needed: Quorum,
    now: datetime,
    policy: UpdatePolicy,
) -> StationUpdate:
    """An established station meets observations far from it: the near ones update it as usual,
    the far ones join its challenge; once independent sources back the challenge it wins — the
    station moves there (REPLACE) when the challenge is consistent, keeping its sample count (so
    moving it back needs a quorum as well), or is blocked when it is not (a mobile station)."""
    today = now.date()
    base = station
    count = len(near) + len(far)
    if near:
        merged = _observed(key, station, near, now, policy)
        if merged.record is not None and merged.record.positioned:
            base = merged.record
    previous = current(
        base.challenge.evidence if base.challenge is not None else None, today, policy.window_days
    )
    challenge = challenged(
        base.challenge if previous is not None else None, far, _sources(far), today.isoformat()
    )
    if not met(challenge.evidence, needed):
        version = base.version + (0 if base is not station else 1)
        return StationUpdate(Change.CHALLENGE, replace(base, challenge=challenge, version=version), count)
    box = (challenge.min_lat, challenge.min_lon, challenge.max_lat, challenge.max_lon)
    if haversine_m(*box) > max_distance_m(key):
        return StationUpdate(Change.BLOCK, _block(replace(station, challenge=None), now), count)
    winner = _Aggregate(
        lat=challenge.lat,
        lon=challenge.lon,
        min_lat=challenge.min_lat,
        max_lat=challenge.max_lat,
        min_lon=challenge.min_lon,
        max_lon=challenge.max_lon,
        weight=min(challenge.weight, WEIGHT_CAP),
        samples=min(challenge.samples, SAMPLES_CAP),
        consistent=True,
    )
    reset = replace(station, samples=0, weight=0.0, challenge=None)
    moved = _position_from(reset, winner, _dominant_psc(far), now)
    # The station keeps its standing: taking it back needs a quorum too (docs/abuse.md).
    return StationUpdate(Change.REPLACE, replace(moved, samples=max(station.samples, moved.samples)), count)


@dataclass(frozen=True, slots=True)
class AggregatedStation:
    """A station as another instance aggregated it (`POST /v1/transfer`): its centre, bbox
    (None: the centre), total weight and samples."""

    lat: float
    lon: float
    weight: float
    samples: int
    psc: int | None = None
    min_lat: float | None = None
    max_lat: float | None = None
    min_lon: float | None = None
    max_lon: float | None = None


def merge_aggregated(
    key: str,
    station: StationRecord | None,
    incoming: AggregatedStation,
    now: datetime,
    policy: UpdatePolicy = UpdatePolicy(),
) -> StationUpdate:
    """What an aggregated station from another instance does to `station`: the same transitions
    and weighted update as a batch of observations, with the item standing for a batch whose
    centre, bbox, weight and sample count are the item's. It agrees with a positioned station when
    its centre is within the kind's maximum distance; it is consistent when its bbox is."""
    if not (
        incoming.weight > 0
        and math.isfinite(incoming.weight)
        and math.isfinite(incoming.lat)
        and math.isfinite(incoming.lon)
        and incoming.samples > 0
    ):
        return StationUpdate(Change.IGNORED, None, 0)
    withdrawn, station = _owner_hold(station, now, policy)
    if withdrawn is not None:
        return withdrawn
    max_distance = max_distance_m(key)
    min_lat = min(incoming.lat, incoming.min_lat if incoming.min_lat is not None else incoming.lat)
    max_lat = max(incoming.lat, incoming.max_lat if incoming.max_lat is not None else incoming.lat)
    min_lon = min(incoming.lon, incoming.min_lon if incoming.min_lon is not None else incoming.lon)
    max_lon = max(incoming.lon, incoming.max_lon if incoming.max_lon is not None else incoming.lon)
    new = _Aggregate(
        lat=incoming.lat,
        lon=incoming.lon,
        min_lat=min_lat,
        max_lat=max_lat,
        min_lon=min_lon,
        max_lon=max_lon,
        weight=min(incoming.weight, WEIGHT_CAP),
        samples=min(incoming.samples, SAMPLES_CAP),
        consistent=haversine_m(min_lat, min_lon, max_lat, max_lon) <= max_distance,
    )

    def agrees(lat: float, lon: float) -> bool:
        return haversine_m(lat, lon, incoming.lat, incoming.lon) <= max_distance

    # The other instance's position comes without a footprint: the weighted mean stands, and local
    # observations start a new footprint around it (`aggregate.footprint.place`).
    return _transition(key, station, new, incoming.psc, agrees, 1, now, policy)


def _transition(
    key: str,
    station: StationRecord | None,
    new: _Aggregate,
    psc: int | None,
    agrees_with: Callable[[float, float], bool],
    count: int,
    now: datetime,
    policy: UpdatePolicy,
    place: Placer | None = None,
) -> StationUpdate:
    """Ichnaea's transition table (module docstring) for a consistent-or-not batch `new`; `place`
    fits the position of Wi-Fi/Bluetooth stations (`aggregate.footprint`)."""
    today = now.date()
    if station is None:
        if new.consistent:
            return StationUpdate(
                Change.NEW, _position_from(StationRecord(key=key), new, psc, now, place), count
            )
        blocked = StationRecord(
            key=key,
            created=now,
            modified=now,
            block_first=today.isoformat(),
            block_last=today.isoformat(),
            block_count=1,
            version=1,
        )
        return StationUpdate(Change.NEW_BLOCK, blocked, count)

    if station_blocked(station, today):
        return StationUpdate(Change.BLOCKED, None, count)

    if not station.positioned:
        if new.consistent:
            return StationUpdate(Change.CHANGE, _position_from(station, new, psc, now, place), count)
        return StationUpdate(Change.IGNORED, None, count)

    assert station.lat is not None and station.lon is not None
    agrees = agrees_with(station.lat, station.lon)
    if new.consistent and agrees:
        if not _well_established(station, now, policy):
            return StationUpdate(Change.CHANGE, _merge(station, new, psc, now, place), count)
        if station.last_seen == today.isoformat():
            return StationUpdate(Change.SETTLED, None, count)
        confirmed = replace(station, last_seen=today.isoformat(), version=station.version + 1)
        return StationUpdate(Change.CONFIRM, confirmed, count)
    if new.consistent and _old(station, now, policy):
        reset = replace(station, samples=0, weight=0.0)
        return StationUpdate(Change.REPLACE, _position_from(reset, new, psc, now, place), count)
    return StationUpdate(Change.BLOCK, _block(station, now), count)
