"""Where the locate engine gets its stations: the `StationLookup` interface.

The engine (`locate.service`) asks a lookup for the stations and cell areas a query names and
never sees where they come from. Two lookups exist:

- `RecordLookup` (here): the online service, over any `RecordSource` — the stations table
  (`store.stations.DynamoStationStore`) or its in-memory twin. Networks sent by published
  identifier are resolved through their alias items (`locate.hashed`).
- `publish.pack.PackReader`: an offline pack file (SQLite), keyed by the v1 digests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from openloc.locate.hashed import alias_targets, resolve_hashed
from openloc.locate.query import KnownStation, LocateQuery
from openloc.model.records import StationRecord


class StationLookup(Protocol):
    def stations(self, query: LocateQuery) -> tuple[LocateQuery, dict[str, KnownStation]]:
        """The known stations the query names, and the query with hashed networks resolved."""
        ...

    def areas(self, query: LocateQuery) -> dict[str, KnownStation]:
        """The known cell areas of the query's cells."""
        ...


class RecordSource(Protocol):
    """What the online lookup reads: station and area records by key (one batch read each)."""

    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]: ...

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]: ...


def known(records: Mapping[str, StationRecord]) -> dict[str, KnownStation]:
    """The positioned records as the engine's stations (held-back new stations never answer)."""
    return {
        key: KnownStation(
            key,
            r.lat,
            r.lon,
            float(r.radius or 0),
            max(r.samples, r.num_cells, 1),
            float(r.reach or r.avg_cell_radius or 0),
        )
        for key, r in records.items()
        if r.lat is not None and r.lon is not None and not r.held
    }


class RecordLookup:
    """One batch read for the stations (a second one only for networks sent by hashed
    identifier, whose alias items name the stations), one for areas when asked."""

    def __init__(self, source: RecordSource) -> None:
        self.source = source

    def stations(self, query: LocateQuery) -> tuple[LocateQuery, dict[str, KnownStation]]:
        records = self.source.get_stations(query.station_keys + query.alias_keys)
        if query.alias_keys:
            aliases = {key: records[key] for key in query.alias_keys if key in records}
            missing = [key for key in alias_targets(aliases) if key not in records]
            if missing:
                records = records | self.source.get_stations(missing)
            query = resolve_hashed(query, aliases, records)
        return query, known(records)

    def areas(self, query: LocateQuery) -> dict[str, KnownStation]:
        return known(self.source.get_areas(query.area_keys))
