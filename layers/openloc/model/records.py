"""Plain records of what the tables hold, free of any storage library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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

    @property
    def positioned(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    key: str
    maxreq: int = 0
    allow_locate: bool = True
    allow_region: bool = True
    allow_fallback: bool = False
    allow_submit: bool = True
    allow_transfer: bool = False
    shortname: str | None = None
