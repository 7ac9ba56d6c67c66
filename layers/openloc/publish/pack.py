"""The OpenLoc pack: one SQLite file of published stations, cells and cell areas.

Used for the offline packs (per country, per MCC) and as the columnar companion of the public
Wi-Fi/Bluetooth dumps (a dump file holds only its `wifi` or `blue` table). Why SQLite and not
Parquet: the same file is the on-device database an offline backend queries by key (indexed
point lookups, no decoding of whole column chunks), every platform ships SQLite (Android,
iOS, browsers via sql.js, Python's standard library), and it adds no dependency to the service.

Schema (format_version 4; coordinates are integers in units of 10^-decimals degrees, the
decimals are in `meta`):

    meta(key TEXT PRIMARY KEY, value TEXT)
        format='openloc-pack', format_version='4', hash_scheme='v1', region, kind,
        created (ISO 8601 UTC), wifi_decimals (3), blue_decimals (4), cell_decimals (5), radius_step_m,
        rows_wifi, rows_blue, rows_cell, rows_cell_area
    wifi(id BLOB PRIMARY KEY, lat INTEGER, lon INTEGER, radius INTEGER, samples INTEGER,
         reach INTEGER, loudest INTEGER, breadth INTEGER, offset INTEGER, misfit INTEGER) WITHOUT ROWID
    blue(... same as wifi ...)
        id = the 16 bytes of the station's v1 digest (`v1:` + hex(id) is its public identifier)
    cell(radio TEXT, mcc INTEGER, mnc TEXT, lac INTEGER, cid INTEGER,
         lat INTEGER, lon INTEGER, radius INTEGER, samples INTEGER,
         PRIMARY KEY (radio, mcc, mnc, lac, cid)) WITHOUT ROWID
    cell_area(radio TEXT, mcc INTEGER, mnc TEXT, lac INTEGER,
              lat INTEGER, lon INTEGER, radius INTEGER, num_cells INTEGER, cell_radius INTEGER,
              PRIMARY KEY (radio, mcc, mnc, lac)) WITHOUT ROWID

`radio` is gsm/wcdma/lte/nr; `mnc` keeps its leading zeros as a string ("01" ≠ "001").
`reach` (Wi-Fi/Bluetooth: how far the station is typically heard from its position) and
`cell_radius` (an area's mean cell radius) are in metres and feed the locate engine's radius
model; version 2 added them (a version 1 pack is still read, with both unknown). `loudest` (dBm,
0 = unknown) is the loudest level stumblers heard the station at, which caps how much a client's
louder level weighs; version 3 added it (a version 2 pack is still read, with it unknown).
`breadth`, `offset` (metres) and `misfit` (dB) are the shape of where stumblers heard the station
(the width of its footprint across its main direction, how far the station lies from the
footprint's centre, how far the footprint's levels stray from the path-loss model around the
station: `Footprint.shape`), which the radius model reads; version 4 added them (an older pack
is still read, with them 0: unknown, as a footprint along one line that fits the model).

A dense region's offline pack is split into parts (each a complete pack file of this schema, with
the meta keys `part`, `parts` and `bbox` = JSON [west, south, east, north]; each station or cell
is in exactly one part, the region's cell areas are in every part). `PackSet` is the engine's
lookup over several part files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from openloc.locate.query import KnownStation, LocateQuery
from openloc.model.keys import mac_key
from openloc.model.kinds import MAC_KINDS, StationKind
from openloc.publish.policy import (
    CELL_DECIMALS,
    POSITION_DECIMALS,
    RADIUS_STEP_M,
    PublishedArea,
    PublishedCell,
    PublishedStation,
)

FORMAT = "openloc-pack"
FORMAT_VERSION = "4"
READABLE_VERSIONS = ("1", "2", "3", "4")
_BATCH = 5_000

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE wifi(id BLOB PRIMARY KEY, lat INTEGER, lon INTEGER, radius INTEGER, samples INTEGER,
    reach INTEGER, loudest INTEGER, breadth INTEGER, offset INTEGER, misfit INTEGER) WITHOUT ROWID;
CREATE TABLE blue(id BLOB PRIMARY KEY, lat INTEGER, lon INTEGER, radius INTEGER, samples INTEGER,
    reach INTEGER, loudest INTEGER, breadth INTEGER, offset INTEGER, misfit INTEGER) WITHOUT ROWID;
CREATE TABLE cell(radio TEXT, mcc INTEGER, mnc TEXT, lac INTEGER, cid INTEGER, lat INTEGER,
    lon INTEGER, radius INTEGER, samples INTEGER, PRIMARY KEY (radio, mcc, mnc, lac, cid)) WITHOUT ROWID;
CREATE TABLE cell_area(radio TEXT, mcc INTEGER, mnc TEXT, lac INTEGER, lat INTEGER, lon INTEGER,
    radius INTEGER, num_cells INTEGER, cell_radius INTEGER, PRIMARY KEY (radio, mcc, mnc, lac))
    WITHOUT ROWID;
"""


class PackError(ValueError):
    """A file that is not an OpenLoc pack of a supported format version."""


def _fixed(value: float, decimals: int) -> int:
    return round(value * 10.0**decimals)


class PackWriter:
    """Writes one pack file; rows are buffered and inserted in batches (last write wins per key)."""

    def __init__(self, path: Path, region: str, kind: str, created: datetime) -> None:
        self.path = path
        path.unlink(missing_ok=True)
        self.db = sqlite3.connect(path)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self.meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "hash_scheme": "v1",
            "region": region,
            "kind": kind,
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "wifi_decimals": str(POSITION_DECIMALS["wifi"]),
            "blue_decimals": str(POSITION_DECIMALS["blue"]),
            "cell_decimals": str(CELL_DECIMALS),
            "radius_step_m": str(RADIUS_STEP_M),
        }
        self.rows = {"wifi": 0, "blue": 0, "cell": 0, "cell_area": 0}
        self._pending: dict[str, list[tuple[object, ...]]] = {name: [] for name in self.rows}

    def _add(self, table: str, row: tuple[object, ...]) -> None:
        pending = self._pending[table]
        pending.append(row)
        self.rows[table] += 1
        if len(pending) >= _BATCH:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._pending[table]
        if rows:
            marks = ",".join("?" * len(rows[0]))
            self.db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", rows)
            rows.clear()

    def add_station(self, station: PublishedStation) -> None:
        self._add(
            station.kind,
            (
                bytes.fromhex(station.digest),
                _fixed(station.lat, POSITION_DECIMALS[station.kind]),
                _fixed(station.lon, POSITION_DECIMALS[station.kind]),
                station.radius,
                station.samples,
                station.reach,
                station.loudest,
                station.breadth,
                station.offset,
                station.misfit,
            ),
        )

    def add_cell(self, cell: PublishedCell) -> None:
        self._add(
            "cell",
            (
                cell.radio, cell.mcc, cell.mnc, cell.lac, cell.cid, _fixed(cell.lat, CELL_DECIMALS),
                _fixed(cell.lon, CELL_DECIMALS), cell.radius, cell.samples,
            ),
        )  # fmt: skip

    def add_area(self, area: PublishedArea) -> None:
        self._add(
            "cell_area",
            (
                area.radio, area.mcc, area.mnc, area.lac, _fixed(area.lat, CELL_DECIMALS),
                _fixed(area.lon, CELL_DECIMALS), area.radius, area.num_cells, area.cell_radius,
            ),
        )  # fmt: skip

    def close(self) -> Path:
        for table in self._pending:
            self._flush(table)
        self.meta |= {f"rows_{table}": str(count) for table, count in self.rows.items()}
        self.db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(self.meta.items()))
        self.db.commit()
        self.db.execute("VACUUM")
        self.db.close()
        return self.path


class PackReader:
    """A read-only pack file as the locate engine's `StationLookup` (offline answers).

    An offline query names Wi-Fi and Bluetooth networks by their v1 digest (`MacSignal.mac`
    holds it): the pack is keyed by digest, so it never needs raw MACs."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise PackError(f"no such pack file: {path}")
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            self.meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as error:
            raise PackError(f"{path} is not an OpenLoc pack: {error}") from error
        if self.meta.get("format") != FORMAT or self.meta.get("format_version") not in READABLE_VERSIONS:
            raise PackError(f"{path}: unsupported pack format {self.meta.get('format_version')!r}")
        self.station_scale = {kind: 10.0 ** int(self.meta[f"{kind}_decimals"]) for kind in MAC_KINDS}
        self.cell_scale = 10.0 ** int(self.meta["cell_decimals"])
        # columns a file older than their version lacks are read as 0 (unknown)
        version = int(self.meta["format_version"])
        self._reach = "reach" if version >= 2 else "0"
        self._cell_radius = "cell_radius" if version >= 2 else "0"
        self._loudest = "loudest" if version >= 3 else "0"
        self._shape = "breadth, offset, misfit" if version >= 4 else "0, 0, 0"

    def close(self) -> None:
        self.db.close()

    def stations(self, query: LocateQuery) -> tuple[LocateQuery, dict[str, KnownStation]]:
        found = self._macs(StationKind.WIFI, [w.mac for w in query.wifis])
        found |= self._macs(StationKind.BLUE, [b.mac for b in query.blues])
        for cell in {cell for signal in query.cells for cell in signal.ids}:
            row = self.db.execute(
                "SELECT lat, lon, radius, samples FROM cell "
                "WHERE radio=? AND mcc=? AND mnc=? AND lac=? AND cid=?",
                (str(cell.radio), cell.mcc, cell.mnc, cell.lac, cell.cid),
            ).fetchone()
            if row is not None:
                found[cell.key] = self._known(cell.key, row, max(int(row[3]), 1))
        return query, found

    def cached(self, query: LocateQuery) -> dict[str, KnownStation]:
        return {}  # a local file: every read is free, nothing to save

    def areas(self, query: LocateQuery) -> dict[str, KnownStation]:
        found: dict[str, KnownStation] = {}
        for area in query.area_ids:
            row = self.db.execute(
                f"SELECT lat, lon, radius, num_cells, {self._cell_radius} FROM cell_area "
                "WHERE radio=? AND mcc=? AND mnc=? AND lac=?",
                (str(area.radio), area.mcc, area.mnc, area.lac),
            ).fetchone()
            if row is not None:
                known = self._known(area.key, row, max(int(row[3] or 0), 1))
                found[area.key] = replace(known, reach=float(row[4] or 0))
        return found

    def _known(self, key: str, row: tuple[int, ...], samples: int) -> KnownStation:
        scale = self.cell_scale
        return KnownStation(key, row[0] / scale, row[1] / scale, float(row[2]), samples)

    def _macs(self, kind: StationKind, digests: Sequence[str]) -> dict[str, KnownStation]:
        """Known stations by v1 digest, keyed `<kind>#<digest>` as the engine expects."""
        if not digests:
            return {}
        marks = ",".join("?" * len(digests))
        rows = self.db.execute(
            f"SELECT id, lat, lon, radius, samples, {self._reach}, {self._loudest}, {self._shape} "
            f"FROM {kind} WHERE id IN ({marks})",
            [bytes.fromhex(d) for d in digests],
        ).fetchall()
        scale = self.station_scale[kind]
        found = {}
        for digest, lat, lon, radius, samples, reach, loudest, breadth, offset, misfit in rows:
            key = mac_key(kind, digest.hex())
            found[key] = KnownStation(
                key,
                lat / scale,
                lon / scale,
                float(radius),
                max(int(samples), 1),
                float(reach or 0),
                float(loudest or 0),
                float(breadth or 0),
                float(offset or 0),
                float(misfit or 0),
            )
        return found


class PackSet:
    """Several pack files (the parts of a region, or packs of several regions) as one
    `StationLookup`: every part is asked for the query's stations (indexed point lookups, a few
    per part), and a cell area is taken from the first part that has it (every part of a region
    holds all of its areas)."""

    def __init__(self, readers: Sequence[PackReader]) -> None:
        if not readers:
            raise PackError("no pack file given")
        self.readers = list(readers)

    @classmethod
    def open(cls, paths: Sequence[Path]) -> PackSet:
        readers: list[PackReader] = []
        try:
            for path in paths:
                readers.append(PackReader(path))
        except BaseException:
            for reader in readers:
                reader.close()
            raise
        return cls(readers)

    def close(self) -> None:
        for reader in self.readers:
            reader.close()

    def stations(self, query: LocateQuery) -> tuple[LocateQuery, dict[str, KnownStation]]:
        found: dict[str, KnownStation] = {}
        for reader in self.readers:
            found |= reader.stations(query)[1]
        return query, found

    def areas(self, query: LocateQuery) -> dict[str, KnownStation]:
        found: dict[str, KnownStation] = {}
        for reader in self.readers:
            for key, area in reader.areas(query).items():
                found.setdefault(key, area)
        return found

    def cached(self, query: LocateQuery) -> dict[str, KnownStation]:
        return {}  # local files: every read is free, nothing to save

    def missing_parts(self) -> dict[tuple[str, str], list[int]]:
        """For each (region, created) generation given in parts: the part numbers not given."""
        given: dict[tuple[str, str], tuple[int, set[int]]] = {}
        for reader in self.readers:
            meta = reader.meta
            try:
                part, parts = int(meta.get("part", "1")), int(meta.get("parts", "1"))
            except ValueError:
                continue
            generation = (str(meta.get("region")), str(meta.get("created")))
            given.setdefault(generation, (parts, set()))[1].add(part)
        return {
            generation: sorted(set(range(1, count + 1)) - numbers)
            for generation, (count, numbers) in given.items()
            if set(range(1, count + 1)) - numbers
        }
