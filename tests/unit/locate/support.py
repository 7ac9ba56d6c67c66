"""Known stations and signals around one point, for the tests of the locate engine."""

from __future__ import annotations

import math

from openloc.locate.query import KnownStation, MacSignal
from openloc.model.keys import CellId
from openloc.model.kinds import Radio

BASE = (52.52, 13.41)


def offset(north_m: float, east_m: float, origin: tuple[float, float] = BASE) -> tuple[float, float]:
    lat, lon = origin
    return lat + north_m / 111_320.0, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


def wifi(i: int, north: float, east: float, radius: float = 50.0, samples: int = 10) -> KnownStation:
    lat, lon = offset(north, east)
    return KnownStation(f"wifi#{i:012x}", lat, lon, radius, samples)


def signals(stations: list[KnownStation], signal: int | None = -70) -> list[MacSignal]:
    return [MacSignal(s.key.split("#")[1], signal) for s in stations]


def by_key(stations: list[KnownStation]) -> dict[str, KnownStation]:
    return {s.key: s for s in stations}


def lte(cid: int, lac: int = 4711, mnc: str = "01") -> CellId:
    return CellId(Radio.LTE, 262, mnc, lac, cid)


def known_cell(cell: CellId, north: float, east: float, radius: float = 2_000) -> KnownStation:
    return KnownStation(cell.key, *offset(north, east), radius, 100)
