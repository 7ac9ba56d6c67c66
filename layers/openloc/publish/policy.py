"""Which stations are published, and how: the privacy rules of the public dumps and offline packs.

A Wi-Fi or Bluetooth station is published only when all of these hold (docs/privacy.md):

- it has a position and is not blocked (moving or contradictory stations never are), nor held
  back as a new station no second source has confirmed yet (docs/abuse.md);
- it was never withdrawn by an opt-out name (`optout_last` is unset);
- it has a name digest (`name_hash`): hidden/empty SSIDs and nameless beacons have none, and
  opt-out names never reach it;
- its MAC is universally administered and unicast (randomised MACs identify a phone, not a place);
- it has at least `min_samples` samples and `min_days` days between first and last observation.

It is published as its `v1` identifier (never the MAC), its position rounded to
`POSITION_DECIMALS[kind]` decimal degrees — about the radio range of its kind (Wi-Fi ≈ 100 m,
Bluetooth ≈ 10 m), so the published position says little more than seeing the network does —
its radius rounded up to `RADIUS_STEP_M` and its samples capped.
Cells (already public in the MLS-format cell export) are published at `CELL_DECIMALS`, with the
cell export's minimum sample count (and, like there, never while held back).

Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from openloc.aggregate.blocking import station_blocked
from openloc.locate.radius import PATH_LOSS_EXPONENT
from openloc.model.identifiers import CURRENT_VERSION
from openloc.model.keys import is_private_mac, key_kind, parse_area_key, parse_key
from openloc.model.kinds import StationKind
from openloc.model.records import Footprint, StationRecord

# 0.001° ≈ 111 m north–south (≈ 72 m east–west at 50° latitude); 0.0001° ≈ 11 m.
POSITION_DECIMALS: dict[str, int] = {StationKind.WIFI: 3, StationKind.BLUE: 4}
CELL_DECIMALS = 5  # ≈ 1 m: cells are public at full precision in the cell export anyway
RADIUS_STEP_M = 10
MAX_PUBLISHED_SAMPLES = 10_000  # beyond this the count says nothing more about quality


@dataclass(frozen=True)
class PublishPolicy:
    min_samples: int = 10
    min_days: int = 7
    cell_min_samples: int = 1  # as the public cell export (CELL_EXPORT_MIN_SAMPLES)


@dataclass(frozen=True, slots=True)
class PublishedStation:
    kind: StationKind
    digest: str  # the v1 digest, 32 hex digits
    lat: float
    lon: float
    radius: int
    samples: int
    region: str | None
    reach: int = 0  # how far it is typically heard (m, `StationRecord.reach`); 0 = unknown
    loudest: int = 0  # the loudest level stumblers heard it at (dBm, `Footprint.loudest`); 0 = unknown
    breadth: int = 0  # its footprint's breadth (m, `Footprint.shape`); 0 = unknown or a line
    offset: int = 0  # from it to its footprint's centre (m, `Footprint.shape`)
    misfit: int = 0  # its footprint's levels around the path-loss model (dB, `Footprint.shape`)

    @property
    def station_id(self) -> str:
        return f"{CURRENT_VERSION}:{self.digest}"


@dataclass(frozen=True, slots=True)
class PublishedCell:
    radio: str
    mcc: int
    mnc: str
    lac: int
    cid: int
    lat: float
    lon: float
    radius: int
    samples: int
    region: str | None


@dataclass(frozen=True, slots=True)
class PublishedArea:
    radio: str
    mcc: int
    mnc: str
    lac: int
    lat: float
    lon: float
    radius: int
    num_cells: int
    region: str | None
    cell_radius: int = 0  # the mean radius of its cells (m)


def round_radius(radius: float) -> int:
    return math.ceil(max(radius or 0.0, 0.0) / RADIUS_STEP_M) * RADIUS_STEP_M


def history_days(record: StationRecord) -> int:
    """Days between first (`created`) and last (`last_seen`) observation; 0 when unknown."""
    if record.created is None or record.last_seen is None:
        return 0
    return (date.fromisoformat(record.last_seen) - record.created.date()).days


def publishable(record: StationRecord, today: date, policy: PublishPolicy) -> bool:
    parsed = parse_key(record.key)
    mac = parsed.mac if parsed is not None else None
    return (
        mac is not None
        and not record.held
        and record.lat is not None
        and record.lon is not None
        and record.optout_last is None
        and record.name_hash is not None
        and len(mac) == 12
        and not is_private_mac(mac)
        and not station_blocked(record, today)
        and record.samples >= policy.min_samples
        and history_days(record) >= policy.min_days
    )


def published_station(record: StationRecord, today: date, policy: PublishPolicy) -> PublishedStation | None:
    """The public form of a Wi-Fi/Bluetooth station, or None if it must not be published."""
    if not publishable(record, today, policy):
        return None
    assert record.lat is not None and record.lon is not None and record.name_hash is not None
    kind = key_kind(record.key)
    assert kind is not None
    decimals = POSITION_DECIMALS[kind]
    footprint = record.footprint or Footprint()
    shape = footprint.shape(PATH_LOSS_EXPONENT)
    return PublishedStation(
        kind=kind,
        digest=record.name_hash,
        lat=round(record.lat, decimals),
        lon=round(record.lon, decimals),
        radius=round_radius(record.radius),
        samples=min(record.samples, MAX_PUBLISHED_SAMPLES),
        region=record.region,
        reach=round_radius(record.reach),
        loudest=round(footprint.loudest),
        breadth=round(shape.breadth),
        offset=round(shape.offset),
        misfit=round(shape.misfit),
    )


def published_cell(record: StationRecord, min_samples: int = 1) -> PublishedCell | None:
    parsed = parse_key(record.key)
    cell = parsed.cell if parsed is not None else None
    if cell is None or record.lat is None or record.lon is None or record.samples < min_samples:
        return None
    if record.held:
        return None
    return PublishedCell(
        cell.radio,
        cell.mcc,
        cell.mnc,
        cell.lac,
        cell.cid,
        round(record.lat, CELL_DECIMALS),
        round(record.lon, CELL_DECIMALS),
        round_radius(record.radius),
        min(record.samples, MAX_PUBLISHED_SAMPLES),
        record.region,
    )


def published_area(record: StationRecord) -> PublishedArea | None:
    area = parse_area_key(record.key)
    if area is None or record.lat is None or record.lon is None:
        return None
    return PublishedArea(
        area.radio,
        area.mcc,
        area.mnc,
        area.lac,
        round(record.lat, CELL_DECIMALS),
        round(record.lon, CELL_DECIMALS),
        round_radius(record.radius),
        record.num_cells,
        record.region,
        round_radius(record.avg_cell_radius),
    )
