"""Independent evidence before an established station changes (docs/abuse.md).

One anonymous report must not move, block or withdraw a station that many people have seen.
Every observation carries its *source*: a keyed hash of the submitter's address group (IPv4 /24,
IPv6 /48) and API key (`api.sources`); nothing in it can be reversed to an address. Evidence
against a station counts distinct sources and distinct UTC days, and the quorum grows with how
established the station is:

| station samples | quorum to move, block or withdraw (from afar) |
|---|---|
| < `established_samples` (20) | none: one batch acts at once (Ichnaea's transition table) |
| 20 – 49 | 2 distinct sources |
| ≥ `trusted_samples` (50) | 3 distinct sources on at least 2 distinct days |

Until the quorum is met the evidence is only kept (at most `MAX_SOURCES` sources and `MAX_DAYS`
days, for `window_days`): the station keeps answering from its position. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from openloc.model.records import Challenge, Evidence

MAX_SOURCES = 8
MAX_DAYS = 4


@dataclass(frozen=True)
class Quorum:
    sources: int
    days: int


class CorroborationPolicy(Protocol):
    @property
    def corroborate(self) -> bool: ...

    @property
    def established_samples(self) -> int: ...

    @property
    def trusted_samples(self) -> int: ...

    @property
    def window_days(self) -> int: ...


def quorum(samples: int, policy: CorroborationPolicy) -> Quorum | None:
    """The support a change of a station with `samples` samples needs; None: none (acts at once)."""
    if not policy.corroborate or samples < policy.established_samples:
        return None
    if samples < policy.trusted_samples:
        return Quorum(sources=2, days=1)
    return Quorum(sources=3, days=2)


def met(evidence: Evidence, needed: Quorum) -> bool:
    return len(evidence.sources) >= needed.sources and len(evidence.days) >= needed.days


def _capped(values: Iterable[str], limit: int) -> tuple[str, ...]:
    return tuple(sorted(dict.fromkeys(values)))[:limit]


def supported(evidence: Evidence | None, sources: Iterable[str], day: str) -> Evidence:
    """`evidence` with more sightings (distinct sources and days, capped; the smallest kept, so the
    result does not depend on the order sightings arrive in)."""
    previous = evidence or Evidence()
    return Evidence(
        sources=_capped([*previous.sources, *sources], MAX_SOURCES),
        days=_capped([*previous.days, day], MAX_DAYS),
    )


def current(evidence: Evidence | None, today: date, window_days: int) -> Evidence | None:
    """The evidence while its oldest day is within `window_days` of `today`, else None (stale
    evidence is forgotten: support must come together within the window)."""
    if evidence is None or not evidence.days:
        return None
    oldest = date.fromisoformat(min(evidence.days))
    return evidence if today - oldest < timedelta(days=window_days) else None


class Sighting(Protocol):
    @property
    def lat(self) -> float: ...

    @property
    def lon(self) -> float: ...

    @property
    def weight(self) -> float: ...


def challenged(
    previous: Challenge | None, sightings: Sequence[Sighting], sources: Iterable[str], day: str
) -> Challenge:
    """`previous` (or a new challenge) with more disagreeing observations: weighted centre,
    bounding box, weight and samples combined, and their sources and day added."""
    weight = math.fsum(s.weight for s in sightings)
    lat = math.fsum(s.lat * s.weight for s in sightings) / weight
    lon = math.fsum(s.lon * s.weight for s in sightings) / weight
    box = (
        min(s.lat for s in sightings),
        max(s.lat for s in sightings),
        min(s.lon for s in sightings),
        max(s.lon for s in sightings),
    )
    if previous is not None:
        total = previous.weight + weight
        lat = (previous.lat * previous.weight + lat * weight) / total
        lon = (previous.lon * previous.weight + lon * weight) / total
        box = (
            min(box[0], previous.min_lat),
            max(box[1], previous.max_lat),
            min(box[2], previous.min_lon),
            max(box[3], previous.max_lon),
        )
        weight = total
    return Challenge(
        lat=min(max(lat, box[0]), box[1]),
        lon=min(max(lon, box[2]), box[3]),
        min_lat=box[0],
        max_lat=box[1],
        min_lon=box[2],
        max_lon=box[3],
        weight=weight,
        samples=(previous.samples if previous is not None else 0) + len(sightings),
        evidence=supported(previous.evidence if previous is not None else None, sources, day),
    )
