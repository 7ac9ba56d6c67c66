"""Plain records of what the tables hold, free of any storage library."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class Evidence:
    """Who supports a claim about a station, and when: the distinct sources (keyed hashes of the
    submitter's address group and key, `api.sources`) and the distinct UTC days (ISO) of the
    sightings. Both are capped (`aggregate.corroboration.MAX_SOURCES`/`MAX_DAYS`): a quorum
    needs only a few of each."""

    sources: tuple[str, ...] = ()
    days: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Challenge:
    """Observations that disagree with an established station's position, kept until enough
    independent sources agree on them (`aggregate.corroboration`): their weighted centre, bounding
    box, weight, sample count and support."""

    lat: float
    lon: float
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float
    weight: float
    samples: int
    evidence: Evidence = field(default_factory=Evidence)

    def to_json(self) -> str:
        values: dict[str, Any] = {name: getattr(self, name) for name in _CHALLENGE_NUMBERS}
        return json.dumps(
            {**values, "sources": self.evidence.sources, "days": self.evidence.days}, separators=(",", ":")
        )

    @classmethod
    def from_json(cls, text: str) -> Challenge:
        data = json.loads(text)
        evidence = Evidence(tuple(data.get("sources", ())), tuple(data.get("days", ())))
        return cls(**{name: data[name] for name in _CHALLENGE_NUMBERS}, evidence=evidence)


_CHALLENGE_NUMBERS = ("lat", "lon", "min_lat", "max_lat", "min_lon", "max_lon", "weight", "samples")


# Observations of a Wi-Fi/Bluetooth station heard close together: their mean position in metres
# east and north of the station's position, how many, and their mean signal (dBm).
Bin = tuple[float, float, int, float]


class FootprintShape(NamedTuple):
    breadth: float  # m: the footprint's width across its main direction
    offset: float  # m: from the station to the footprint's weighted centre
    misfit: float  # dB: how far the bins' levels stray from the path-loss model around the station


@dataclass(frozen=True, slots=True)
class Footprint:
    """Where a Wi-Fi/Bluetooth station was heard and how strongly: a few bins (at most
    `aggregate.footprint.MAX_BINS`), relative to the station's own position. A small fixed-size
    summary of its observations, from which `aggregate.footprint` fits the position and reach; the
    observations themselves are never kept. Stored as `east,north,count,signal;…` (metres, dBm)."""

    bins: tuple[Bin, ...] = ()

    @property
    def loudest(self) -> float:
        """The strongest mean level of a bin (dBm): how loud stumblers heard the station at best;
        0 without bins."""
        return max((b[3] for b in self.bins), default=0.0)

    def shape(self, exponent: float) -> FootprintShape:
        """The shape of the footprint around the station (what the locate engine's radius reads):

        - breadth (m): the count-weighted RMS width of the bins across their main direction (the
          square root of the smaller eigenvalue of their covariance). A station heard along one
          street only has a breadth near 0: which side of the street it is on is the fit's guess;
        - offset (m): from the station to the bins' weighted centre, how far the fit placed it
          away from where it was heard;
        - misfit (dB): the count-weighted RMS of the bins' levels around the log-distance model
          s = P₁ − 10·`exponent`·log10(d) from the station's position (P₁ the weighted mean, d at
          least 1 m): levels that do not fall off with the distance from the position say the
          position is off.

        All 0 without bins."""
        total = east = north = ee = nn = en = power = power2 = 0.0
        per_decade = 10.0 * exponent
        for b_east, b_north, count, level in self.bins:  # one pass: sums of the moments
            level_at_1m = level + per_decade * math.log10(max(math.hypot(b_east, b_north), 1.0))
            total += count
            east += count * b_east
            north += count * b_north
            ee += count * b_east * b_east
            nn += count * b_north * b_north
            en += count * b_east * b_north
            power += count * level_at_1m
            power2 += count * level_at_1m * level_at_1m
        if total <= 0:
            return FootprintShape(0.0, 0.0, 0.0)
        east, north, power = east / total, north / total, power / total
        ee, nn, en = ee / total - east * east, nn / total - north * north, en / total - east * north
        half_trace = (ee + nn) / 2.0
        smaller = half_trace - math.sqrt(max(half_trace * half_trace - (ee * nn - en * en), 0.0))
        misfit2 = power2 / total - power * power
        return FootprintShape(
            math.sqrt(max(smaller, 0.0)), math.hypot(east, north), math.sqrt(max(misfit2, 0.0))
        )

    def to_text(self) -> str:
        return ";".join(f"{e:.0f},{n:.0f},{c},{s:.1f}" for e, n, c, s in self.bins)

    @classmethod
    def from_text(cls, text: str) -> Footprint:
        bins = []
        for part in text.split(";"):
            if part:
                east, north, count, signal = part.split(",")
                bins.append((float(east), float(north), int(count), float(signal)))
        return cls(tuple(bins))


def evidence_to_json(evidence: Evidence) -> str:
    return json.dumps({"sources": evidence.sources, "days": evidence.days}, separators=(",", ":"))


def evidence_from_json(text: str) -> Evidence:
    data = json.loads(text)
    return Evidence(tuple(data.get("sources", ())), tuple(data.get("days", ())))


@dataclass(slots=True)
class StationRecord:
    """A station (or, with `num_cells`, a cell area) as stored; position None = unknown or blocked."""

    key: str
    lat: float | None = None
    lon: float | None = None
    min_lat: float | None = None
    max_lat: float | None = None
    min_lon: float | None = None
    max_lon: float | None = None
    radius: float = 0.0
    region: str | None = None
    samples: int = 0
    weight: float = 0.0
    psc: int | None = None
    created: datetime | None = None
    modified: datetime | None = None
    last_seen: str | None = None
    block_first: str | None = None
    block_last: str | None = None
    block_count: int = 0
    version: int = 0
    num_cells: int = 0
    avg_cell_radius: float = 0.0
    recent_messages: tuple[str, ...] = ()
    # Wi-Fi/Bluetooth only (docs/privacy.md): the `model.identifiers` v1 digest of the name (SSID or
    # beacon name) most observed with this MAC, tracked by a weighted majority vote — the raw name
    # itself is never stored. `name_votes` is the vote's running margin.
    name_hash: str | None = None
    name_votes: int = 0
    # Last day (ISO) the station was seen with an opt-out name (`_nomap`/`_optout`): while set and
    # recent, the station has no position, is not published and ignores observations.
    optout_last: str | None = None
    # Alias items only (`hash#wifi#<digest>`): the station key the published identifier stands for.
    alias_of: str | None = None
    # Poisoning resistance (docs/abuse.md). A new station created beyond its source's daily budget
    # is `held`: stored, but neither located nor published until another source confirms it;
    # `first_source` is the source that created it. `challenge` holds observations that disagree
    # with an established station until enough independent sources back them; `optout_evidence`
    # the sources of opt-out sightings too far from the station to act on their own.
    held: bool = False
    first_source: str | None = None
    challenge: Challenge | None = None
    optout_evidence: Evidence | None = None
    # Wi-Fi/Bluetooth (docs/accuracy.md): where the station was heard (`footprint`, fixed size) and
    # how far it is typically heard from its fitted position (`reach`, m; 0 = unknown).
    footprint: Footprint | None = None
    reach: float = 0.0

    @property
    def positioned(self) -> bool:
        return self.lat is not None and self.lon is not None


# Observations (Wi-Fi, Bluetooth and cell entries of accepted reports) a key may submit per UTC
# day unless it was given another budget: about six full uploads of the Android stumbler.
DEFAULT_MAXSUBMIT = 200_000


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key: `maxreq` locate requests per day and path (0 = unlimited), `maxsubmit`
    submitted observations per day (0 = unlimited), and the endpoints it may use."""

    key: str
    maxreq: int = 0
    maxsubmit: int = DEFAULT_MAXSUBMIT
    allow_locate: bool = True
    allow_region: bool = True
    allow_submit: bool = True
    allow_transfer: bool = False
    shortname: str | None = None
