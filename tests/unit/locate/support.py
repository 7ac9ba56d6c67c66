"""Known stations and signals around one point, for the tests of the locate engine."""

from __future__ import annotations

import math
from collections.abc import Sequence

from openloc.locate.query import KnownStation, MacSignal
from openloc.model.keys import CellId
from openloc.model.kinds import Radio
from openloc.model.records import StationRecord

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


class Table:
    """The stations table as a locate call sees it: each read is a round of keys (`rounds`), and
    every requested key is a paid read, found or not."""

    def __init__(self, records: dict[str, StationRecord]) -> None:
        self.records = records
        self.rounds: list[list[str]] = []

    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        self.rounds.append(list(keys))
        return {key: self.records[key] for key in keys if key in self.records}

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        return self.get_stations(keys)

    @property
    def keys_read(self) -> int:
        return sum(len(keys) for keys in self.rounds)
