"""Where the locate engine gets its stations: the `StationLookup` interface.

The engine (`locate.service`) asks a lookup for the stations and cell areas a query names and
never sees where they come from. Two lookups exist:

- `RecordLookup` (here): the online service, over any `RecordSource` — the stations table
  (`store.stations.DynamoStationStore`) or its in-memory twin, usually behind `CachedRecords`.
  Networks sent by published identifier are resolved through their alias items (`locate.hashed`).
- `publish.pack.PackReader`: an offline pack file (SQLite), keyed by the v1 digests.

`CachedRecords` is the per-instance cache of the online service: a Lambda instance serves many
requests, and neighbouring clients name the same networks, so a record read from DynamoDB is
reused for a short time (`STATION_CACHE_SECONDS`) instead of being read (and paid) again. It is
bounded (least recently used entries go first, `STATION_CACHE_ENTRIES`) and remembers keys the
table does not have too: an unknown network is asked for as often as a known one.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from openloc.locate.hashed import alias_targets, resolve_hashed
from openloc.locate.query import KnownStation, LocateQuery
from openloc.locate.radius import PATH_LOSS_EXPONENT
from openloc.model.records import Footprint, StationRecord


class StationLookup(Protocol):
    def stations(self, query: LocateQuery) -> tuple[LocateQuery, dict[str, KnownStation]]:
        """The known stations the query names, and the query with hashed networks resolved."""
        ...

    def areas(self, query: LocateQuery) -> dict[str, KnownStation]:
        """The known cell areas of the query's cells."""
        ...

    def cached(self, query: LocateQuery) -> dict[str, KnownStation]:
        """The stations of the query known without reading anything (a cache), maybe none."""
        ...


class RecordSource(Protocol):
    """What the online lookup reads: station and area records by key (one batch read each)."""

    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]: ...

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]: ...


def known(records: Mapping[str, StationRecord]) -> dict[str, KnownStation]:
    """The positioned records as the engine's stations (held-back new stations never answer)."""
    return {
        key: _known(key, r, r.lat, r.lon)
        for key, r in records.items()
        if r.lat is not None and r.lon is not None and not r.held
    }


def _known(key: str, r: StationRecord, lat: float, lon: float) -> KnownStation:
    footprint = r.footprint or Footprint()
    shape = footprint.shape(PATH_LOSS_EXPONENT)
    return KnownStation(
        key,
        lat,
        lon,
        float(r.radius or 0),
        max(r.samples, r.num_cells, 1),
        float(r.reach or r.avg_cell_radius or 0),
        footprint.loudest,
        shape.breadth,
        shape.offset,
        shape.misfit,
    )


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

    def cached(self, query: LocateQuery) -> dict[str, KnownStation]:
        peek = getattr(self.source, "peek", None)
        if peek is None:
            return {}
        found: dict[str, StationRecord] = peek(query.station_keys)
        return known(found)


Fetch = Callable[[Sequence[str]], dict[str, StationRecord]]


class CachedRecords:
    """A `RecordSource` that keeps what it read for `ttl_seconds`, at most `max_entries` keys
    (least recently used evicted first), absent keys included. Thread-safe (the API runs lookups
    in a thread pool); `hits` and `misses` count keys served from the cache and read through."""

    def __init__(
        self,
        source: RecordSource,
        max_entries: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or ttl_seconds <= 0:
            raise ValueError("a cache needs at least one entry and a positive TTL")
        self.source = source
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, tuple[float, StationRecord | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        return self._get(keys, self.source.get_stations)

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        # Area keys (`area#…`) never collide with station keys: one cache holds both.
        return self._get(keys, self.source.get_areas)

    def peek(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        """The fresh cached records of `keys`; nothing is read, nothing counted or reordered."""
        now = self.clock()
        with self._lock:
            entries = [(key, self._entries.get(key)) for key in keys]
        return {
            key: entry[1]
            for key, entry in entries
            if entry is not None and entry[1] is not None and now - entry[0] < self.ttl_seconds
        }

    def _get(self, keys: Sequence[str], fetch: Fetch) -> dict[str, StationRecord]:
        now = self.clock()
        found: dict[str, StationRecord] = {}
        missing: list[str] = []
        with self._lock:
            for key in dict.fromkeys(keys):
                entry = self._entries.get(key)
                if entry is None or now - entry[0] >= self.ttl_seconds:
                    missing.append(key)
                    continue
                self._entries.move_to_end(key)
                self.hits += 1
                if entry[1] is not None:
                    found[key] = entry[1]
        if not missing:
            return found
        fetched = fetch(missing)  # outside the lock: a slow read never blocks other requests
        with self._lock:
            self.misses += len(missing)
            for key in missing:
                self._entries[key] = (now, fetched.get(key))
                self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        found.update(fetched)
        return found
