"""The station updater: merge a batch of weighted observations into one station.

Follows Ichnaea's documented "new" and "change" rules (data/station.py): a new station is the
weighted mean of its observations; an existing one moves towards them by their weight against
its own (capped at 10 000, so old stations stay responsive). Observations that do not agree
with each other, or with the station, within the kind's maximum distance are not merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from openloc.geo.distance import bbox_radius_m, haversine_m
from openloc.store.records import StationRecord

MAX_DISTANCE_M = {"wifi": 5_000.0, "blue": 100.0, "cell": 100_000.0}
OLD_WEIGHT_CAP = 10_000.0
WEIGHT_CAP = 1e9


@dataclass(frozen=True, slots=True)
class StationObservation:
    lat: float
    lon: float
    weight: float
    psc: int | None = None


def _dominant_psc(observations: Sequence[StationObservation]) -> int | None:
    """The PSC/PCI with the most observation weight (ties: the smaller code), order-independent."""
    totals: dict[int, float] = {}
    for observation in observations:
        if observation.psc is not None:
            totals[observation.psc] = totals.get(observation.psc, 0.0) + observation.weight
    if not totals:
        return None
    return min(totals, key=lambda code: (-totals[code], code))


def station_kind(key: str) -> str:
    return key.split("#", 1)[0]


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


def _aggregate(observations: Sequence[StationObservation], max_distance: float) -> _Aggregate | None:
    total = sum(o.weight for o in observations)
    min_lat = min(o.lat for o in observations)
    max_lat = max(o.lat for o in observations)
    min_lon = min(o.lon for o in observations)
    max_lon = max(o.lon for o in observations)
    if total <= 0 or haversine_m(min_lat, min_lon, max_lat, max_lon) > max_distance:
        return None
    return _Aggregate(
        lat=sum(o.lat * o.weight for o in observations) / total,
        lon=sum(o.lon * o.weight for o in observations) / total,
        min_lat=min_lat,
        max_lat=max_lat,
        min_lon=min_lon,
        max_lon=max_lon,
        weight=total,
        samples=len(observations),
    )


def update_station(
    key: str, station: StationRecord | None, observations: Sequence[StationObservation], now: datetime
) -> StationRecord | None:
    """The station after merging `observations`, or None when nothing should be written."""
    usable = [o for o in observations if o.weight > 0]
    if not usable:
        return None
    max_distance = MAX_DISTANCE_M[station_kind(key)]
    new = _aggregate(usable, max_distance)
    if new is None:
        return None
    today = now.date().isoformat()
    psc = _dominant_psc(usable)
    if station is None or not station.positioned:
        base = station or StationRecord(key=key, created=now)
        return replace(
            base,
            lat=new.lat,
            lon=new.lon,
            min_lat=new.min_lat,
            max_lat=new.max_lat,
            min_lon=new.min_lon,
            max_lon=new.max_lon,
            radius=round(bbox_radius_m(new.lat, new.lon, new.min_lat, new.min_lon, new.max_lat, new.max_lon)),
            samples=base.samples + new.samples,
            weight=min(base.weight + new.weight, WEIGHT_CAP),
            psc=psc if psc is not None else base.psc,
            created=base.created or now,
            modified=now,
            last_seen=today,
            version=base.version + 1,
        )
    assert station.lat is not None and station.lon is not None
    if any(haversine_m(station.lat, station.lon, o.lat, o.lon) > max_distance for o in usable):
        return None
    old_weight = min(station.weight, OLD_WEIGHT_CAP)
    lat = (new.lat * new.weight + station.lat * old_weight) / (new.weight + old_weight)
    lon = (new.lon * new.weight + station.lon * old_weight) / (new.weight + old_weight)
    min_lat = min(new.min_lat, station.min_lat if station.min_lat is not None else station.lat, station.lat)
    max_lat = max(new.max_lat, station.max_lat if station.max_lat is not None else station.lat, station.lat)
    min_lon = min(new.min_lon, station.min_lon if station.min_lon is not None else station.lon, station.lon)
    max_lon = max(new.max_lon, station.max_lon if station.max_lon is not None else station.lon, station.lon)
    return replace(
        station,
        lat=lat,
        lon=lon,
        min_lat=min_lat,
        max_lat=max_lat,
        min_lon=min_lon,
        max_lon=max_lon,
        radius=round(bbox_radius_m(lat, lon, min_lat, min_lon, max_lat, max_lon)),
        samples=station.samples + new.samples,
        weight=min(station.weight + new.weight, WEIGHT_CAP),
        psc=psc if psc is not None else station.psc,
        modified=now,
        last_seen=today,
        version=station.version + 1,
    )
