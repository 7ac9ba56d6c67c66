"""The compact GeoIP format (`.olgeo`): only what the locate service reads, as sorted range tables.

The locate function needs, per address block, a position, a country and whether the database
placed it in a city (plus MaxMind's accuracy radius when the source has one): nothing of the city
names, regions, postcodes or time zones a city database carries. `make package` converts the
source databases (DB-IP city lite by default, or any MaxMind-format city database) into one file
per IP version (`infra/packaging.py`); `openloc.locate.geoip` reads `.olgeo` and `.mmdb` alike.

Conversion (`convert_mmdb`) walks every network of the source and keeps, per network:

- the position rounded to `COORDINATE_DECIMALS` (0.01° ≈ 1.1 km: a city answer promises 25 km);
- the country code, the city flag and the accuracy radius (km, 0 = none);

then merges neighbouring blocks with the same record into one range. IPv6 is keyed by the /64
prefix: a network finer than a /64 (under 1 % of DB-IP's) answers with the record of the block
that covers the start of its /64. Ranges without data are kept as gaps (no answer).

File layout (little endian), `HEADER` then five arrays:

    tops      uint32 × T      distinct high parts of the range starts (IPv4: top 16 bits; IPv6:
                              top 32 bits of the /64 prefix), ascending
    offsets   uint32 × T + 1  index of the first range of each high part (cumulative)
    lows      uint16 × N (v4) or uint32 × N (v6): the low part of each range start
    record    uint16 × N + uint8 × N: the range's record index (24 bits; 0xFFFFFF = gap)
    records   int32 lat × 1e4, int32 lon × 1e4, uint16 radius km, 2 bytes country, uint8 city, × R

A lookup is two binary searches over memory-mapped arrays: no parsing, no allocation, and the
whole table is shared by the threads of the process.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
import mmap
import struct
import sys
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

MAGIC = b"OLGEO\x00\x01\x00"
# Bumped whenever the converter writes something new (infra/packaging.py keys its cache on it).
CONVERTER_VERSION = 2
SUFFIX = ".olgeo"
# magic, ip version, tops T, ranges N, records R, metadata bytes
HEADER = struct.Struct("<8sIIIII")
COORDINATE_DECIMALS = 2
COORDINATE_SCALE = 10_000
GAP = 0xFFFFFF
MAX_RECORDS = GAP  # record indexes are 24 bits
_LOW_BITS = {4: 16, 6: 32}
_KEY_BITS = {4: 32, 6: 64}


@dataclass(frozen=True, slots=True)
class CompactRecord:
    lat: float
    lon: float
    country_code: str | None
    city: bool
    accuracy_radius_km: int  # 0: the source gives none


def _native(buffer: memoryview, fmt: str) -> Any:
    """`buffer` as an array of `fmt`; the file is little endian (as Lambda and x86 are)."""
    if sys.byteorder == "little":
        return cast(Any, buffer).cast(fmt)
    values = array(fmt, buffer.tobytes())  # big-endian host: a private, swapped copy
    values.byteswap()
    return values


class CompactReader:
    """One `.olgeo` file, memory-mapped. `get(address)` is thread-safe (read-only)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with open(path, "rb") as file:
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(self._map)
        magic, version, tops, ranges, records, meta = HEADER.unpack_from(view, 0)
        if magic != MAGIC or version not in _LOW_BITS:
            raise ValueError(f"{path}: not an OpenLoc compact GeoIP file")
        self.ip_version = version
        offset = HEADER.size
        self.metadata: dict[str, Any] = json.loads(bytes(view[offset : offset + meta]))
        offset += meta

        def take(count: int, fmt: str) -> Any:
            nonlocal offset
            size = count * struct.calcsize(fmt)
            part = _native(view[offset : offset + size], fmt)
            offset += size
            return part

        self._tops = take(tops, "I")
        self._offsets = take(tops + 1, "I")
        self._lows = take(ranges, "H" if version == 4 else "I")
        self._record_low = take(ranges, "H")
        self._record_high = take(ranges, "B")
        self._lats = take(records, "i")
        self._lons = take(records, "i")
        self._radii = take(records, "H")
        self._countries = bytes(view[offset : offset + 2 * records])
        offset += 2 * records
        self._cities = take(records, "B")
        self.ranges = ranges
        self.records = records

    def starts(self) -> list[int]:
        """Every range's first key, ascending (IPv4: the address; IPv6: the /64 prefix)."""
        low_bits = _LOW_BITS[self.ip_version]
        return [
            self._tops[group] << low_bits | self._lows[index]
            for group in range(len(self._tops))
            for index in range(self._offsets[group], self._offsets[group + 1])
        ]

    def _range(self, key: int) -> int:
        """Index of the range holding `key`, or -1 before the first range."""
        low_bits = _LOW_BITS[self.ip_version]
        high, low = key >> low_bits, key & ((1 << low_bits) - 1)
        group = bisect.bisect_right(self._tops, high) - 1
        if group < 0:
            return -1
        first, end = self._offsets[group], self._offsets[group + 1]
        if self._tops[group] != high:
            return int(end) - 1  # the last range of a lower high part runs on
        return bisect.bisect_right(self._lows, low, first, end) - 1

    def record_index(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int | None:
        if address.version != self.ip_version:
            return None
        key = int(address) if address.version == 4 else int(address) >> 64
        index = self._range(key)
        if index < 0:
            return None
        record = self._record_low[index] | self._record_high[index] << 16
        return None if record == GAP else record

    def get(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> CompactRecord | None:
        record = self.record_index(address)
        if record is None:
            return None
        country = self._countries[2 * record : 2 * record + 2].decode("ascii")
        return CompactRecord(
            lat=self._lats[record] / COORDINATE_SCALE,
            lon=self._lons[record] / COORDINATE_SCALE,
            country_code=country if country.strip() else None,
            city=bool(self._cities[record]),
            accuracy_radius_km=self._radii[record],
        )

    def close(self) -> None:
        for part in (
            "_tops", "_offsets", "_lows", "_record_low", "_record_high", "_lats", "_lons", "_radii", "_cities"
        ):  # fmt: skip
            value = getattr(self, part)
            if isinstance(value, memoryview):
                value.release()
        self._map.close()


# --- conversion (packaging time) --------------------------------------------------------------

Key = tuple[int, int, int, bytes, int]  # lat, lon, radius, country, city
_UNSEEN: Any = object()


def record_key(raw: Any) -> Key | None:
    """The compact record of a raw mmdb record (flat DB-IP or nested MaxMind), None when the
    record has no usable position."""
    from openloc.locate.geoip import record_from_raw

    found = record_from_raw(raw)
    if found is None:
        return None
    country = (found.country_code or "  ").encode("ascii", "replace")[:2]
    radius = min(round(found.accuracy_radius_km or 0), 0xFFFF)
    return (
        round(round(found.lat, COORDINATE_DECIMALS) * COORDINATE_SCALE),
        round(round(found.lon, COORDINATE_DECIMALS) * COORDINATE_SCALE),
        radius,
        country,
        int(found.city),
    )


def merged_ranges(
    networks: Iterable[tuple[int, int, Key | None]], limit: int
) -> Iterator[tuple[int, Key | None]]:
    """(start, record) of each range from ascending (first, last, record) blocks of a key space
    of `limit` keys: neighbours with the same record merge, holes become gaps (None, also after
    the last block), and a block starting inside the previous range (two networks of one /64) is
    absorbed by it."""
    previous: Key | None = None
    next_key = 0
    started = False
    for block_first, last, key in networks:
        if last < next_key:
            continue  # wholly inside the previous range (finer than the key)
        first = max(block_first, next_key)
        if first > next_key and (not started or previous is not None):
            yield next_key, None  # a hole before this block
            previous, started = None, True
        if not started or key != previous:
            yield first, key
            previous, started = key, True
        next_key = last + 1
    if started and previous is not None and next_key < limit:
        yield next_key, None


def write_compact(
    target: BinaryIO, version: int, ranges: Iterable[tuple[int, Key | None]], metadata: dict[str, Any]
) -> dict[str, int]:
    """Write the ranges (ascending starts) as an `.olgeo` file; returns its counts."""
    low_bits = _LOW_BITS[version]
    low_mask = (1 << low_bits) - 1
    tops, offsets = array("I"), array("I")
    lows = array("H" if version == 4 else "I")
    record_low, record_high = array("H"), array("B")
    table: dict[Key, int] = {}
    for start, key in ranges:
        high = start >> low_bits
        if not tops or tops[-1] != high:
            tops.append(high)
            offsets.append(len(lows))
        lows.append(start & low_mask)
        if key is None:
            index = GAP
        else:
            index = table.setdefault(key, len(table))
            if index >= MAX_RECORDS:
                raise ValueError("more distinct records than the format holds")
        record_low.append(index & 0xFFFF)
        record_high.append(index >> 16)
    offsets.append(len(lows))
    records = list(table)
    meta = json.dumps(metadata, sort_keys=True).encode()
    arrays = [
        tops, offsets, lows, record_low, record_high,
        array("i", (r[0] for r in records)), array("i", (r[1] for r in records)),
        array("H", (r[2] for r in records)),
    ]  # fmt: skip
    if sys.byteorder != "little":
        for values in arrays:
            values.byteswap()
    target.write(HEADER.pack(MAGIC, version, len(tops), len(lows), len(records), len(meta)))
    target.write(meta)
    for values in arrays:
        values.tofile(target)
    target.write(b"".join(r[3] for r in records))
    array("B", (r[4] for r in records)).tofile(target)
    return {"ranges": len(lows), "records": len(records), "high_parts": len(tops)}


def mmdb_networks(path: str | Path, version: int) -> Iterator[tuple[int, int, Key | None]]:
    """(first key, last key, record) of every network of an mmdb file, for one IP version.

    An IPv6 database that also holds IPv4 (MaxMind's ::/96 and ::ffff:0:0/96 aliases) is walked
    once: its IPv4 networks arrive as IPv4 from maxminddb and are skipped for version 6."""
    import maxminddb

    shift = 0 if version == 4 else 64
    # Millions of networks share a few hundred thousand records: flat (DB-IP) records are mapped
    # once per distinct (position, country, city); nested (MaxMind) ones each time.
    memo: dict[tuple[Any, ...], Key | None] = {}
    with maxminddb.open_database(str(path)) as reader:
        for network, raw in reader:
            if network.version != version:
                continue
            if isinstance(raw, dict) and "latitude" in raw:
                fingerprint = (
                    raw.get("latitude"),
                    raw.get("longitude"),
                    raw.get("country_code"),
                    raw.get("city"),
                    raw.get("accuracy_radius"),
                )
                key = memo.get(fingerprint, _UNSEEN)
                if key is _UNSEEN:
                    key = memo[fingerprint] = record_key(raw)
            else:
                key = record_key(raw)
            yield (int(network.network_address) >> shift, int(network.broadcast_address) >> shift, key)


def convert_mmdb(sources: Iterable[str | Path], target_dir: Path, metadata: dict[str, Any]) -> list[Path]:
    """Convert mmdb files into `ipv4.olgeo` and `ipv6.olgeo` in `target_dir`; returns the files
    written. Each version comes from one source: IPv4 from the first IPv4 database (else the
    first IPv6 one, which may also hold IPv4, as MaxMind's do), IPv6 from the first IPv6 one."""
    import maxminddb

    versions: list[tuple[int, Path]] = []
    epochs: dict[Path, int] = {}
    for source in sources:
        with maxminddb.open_database(str(source)) as reader:
            versions.append((int(reader.metadata().ip_version), Path(source)))
            epochs[Path(source)] = int(reader.metadata().build_epoch)
    chosen = {
        4: next((p for v, p in versions if v == 4), None) or next((p for v, p in versions if v == 6), None),
        6: next((p for v, p in versions if v == 6), None),
    }
    written = []
    target_dir.mkdir(parents=True, exist_ok=True)
    for version, path in chosen.items():
        if path is None:
            continue
        target = target_dir / f"ipv{version}{SUFFIX}"
        info = {**metadata, "ip_version": version, "source": path.name, "build_epoch": epochs[path]}
        with target.open("wb") as file:
            ranges = merged_ranges(mmdb_networks(path, version), 1 << _KEY_BITS[version])
            counts = write_compact(file, version, ranges, info)
        if counts["records"] == 0:  # e.g. DB-IP's IPv6 file holds no IPv4 block
            target.unlink()
            continue
        written.append(target)
    return written
