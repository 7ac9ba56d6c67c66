"""Value objects shared by the locate sources: what the client saw, what the database knows, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from openloc.model.keys import AreaId, CellId


@dataclass(frozen=True, slots=True)
class MacSignal:
    """A Wi-Fi access point or Bluetooth beacon in a query."""

    mac: str
    signal: int | None = None
    age_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CellSignal:
    """A cell in a query with its candidate table identities (one per MNC spelling)."""

    ids: tuple[CellId, ...]
    signal: int | None = None
    age_ms: int | None = None


@dataclass(frozen=True, slots=True)
class AreaSignal:
    """A cell in a query sent without a usable cell id: only its location area is known (one
    identity per MNC spelling), so it can answer only through the area fallback (`lacf`)."""

    ids: tuple[AreaId, ...]
    signal: int | None = None
    age_ms: int | None = None


@dataclass(frozen=True, slots=True)
class LocateQuery:
    wifis: tuple[MacSignal, ...] = ()
    blues: tuple[MacSignal, ...] = ()
    cells: tuple[CellSignal, ...] = ()
    area_cells: tuple[AreaSignal, ...] = ()
    lacf: bool = True
    ipf: bool = True
    client_ip: str | None = None
    # Networks named by their published identifier (`model.identifiers`): `mac` holds the v1 digest.
    hashed_wifis: tuple[MacSignal, ...] = ()
    hashed_blues: tuple[MacSignal, ...] = ()

    @property
    def alias_keys(self) -> list[str]:
        keys = [f"hash#wifi#{w.mac}" for w in self.hashed_wifis]
        keys += [f"hash#blue#{b.mac}" for b in self.hashed_blues]
        return list(dict.fromkeys(keys))

    @property
    def station_keys(self) -> list[str]:
        keys = [f"wifi#{w.mac}" for w in self.wifis] + [f"blue#{b.mac}" for b in self.blues]
        keys += [cell.key for c in self.cells for cell in c.ids]
        return list(dict.fromkeys(keys))

    @property
    def area_ids(self) -> list[AreaId]:
        """The location areas of every cell sent, with or without a cell id."""
        areas = [cell.area for c in self.cells for cell in c.ids]
        areas += [area for a in self.area_cells for area in a.ids]
        return list(dict.fromkeys(areas))

    @property
    def area_keys(self) -> list[str]:
        return [area.key for area in self.area_ids]


@dataclass(frozen=True, slots=True)
class KnownStation:
    """A positioned, usable station (or cell area) from the database.

    `radius`: the extent of where it was observed (a cell area: of its cells). `reach`: how far a
    Wi-Fi/Bluetooth station is typically heard from its position (0 = unknown); a cell area's
    mean cell radius. `samples`: observations behind it; a cell area's number of cells.
    `loudest`: the strongest level (dBm) stumblers heard a Wi-Fi/Bluetooth station at, the mean
    of its loudest footprint bin (0 = unknown). `breadth`, `offset` (m), `misfit` (dB): the shape
    of where a Wi-Fi/Bluetooth station was heard (`Footprint.shape`; 0 = unknown, as a footprint
    along one line through the station that fits the model)."""

    key: str
    lat: float
    lon: float
    radius: float
    samples: int = 1
    reach: float = 0.0
    loudest: float = 0.0
    breadth: float = 0.0
    offset: float = 0.0
    misfit: float = 0.0


class Source(StrEnum):
    WIFI = "wifi"
    BLUE = "blue"
    CELL = "cell"
    CELL_AREA = "cell_area"
    GEOIP = "geoip"


@dataclass(frozen=True, slots=True)
class Estimate:
    lat: float
    lon: float
    accuracy: float
    source: Source
    score: float = 1.0
    used: tuple[str, ...] = field(default=())

    @property
    def fallback(self) -> str | None:
        return {Source.CELL_AREA: "lacf", Source.GEOIP: "ipf"}.get(self.source)
