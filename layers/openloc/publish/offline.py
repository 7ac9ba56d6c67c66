"""Offline packs as a client uses them: which pack a region names, and what a device sees as a query.

Offline answers come from the service's own engine: `openloc.locate.service.locate` with the pack
file (`publish.pack.PackReader`) as its `StationLookup`. `parse_scan` turns what a device sees into
the engine's query: Wi-Fi networks and Bluetooth beacons become their `v1` identifiers (computed
locally from MAC + name, so the pack never needs raw MACs), cells their table identities. No
GeoIP fallback offline.

Command-line spellings (`openloc offline locate`):

- `--wifi MAC,SSID[,SIGNAL]` or `--wifi v1:<hex>[,SIGNAL]` (SSID = everything between the first
  comma and an optional trailing `,SIGNAL` in dBm, so SSIDs may contain commas);
- `--blue MAC,NAME[,SIGNAL]` or `--blue v1:<hex>[,SIGNAL]`;
- `--cell RADIO,MCC,MNC,LAC,CID[,SIGNAL]` (MNC keeps its leading zeros).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from openloc.locate.query import CellSignal, LocateQuery, MacSignal
from openloc.model.identifiers import clean_name, parse_station_id, station_digest
from openloc.model.keys import cell_ids, is_nomap_ssid, is_private_mac, normalize_mac, parse_radio
from openloc.model.kinds import StationKind

_SIGNAL = re.compile(r"-[0-9]{1,3}")


class ScanFormatError(ValueError):
    """A command-line network that cannot be read."""


def _split_signal(text: str) -> tuple[str, int | None]:
    head, sep, tail = text.rpartition(",")
    if sep and _SIGNAL.fullmatch(tail.strip()):
        return head, int(tail)
    return text, None


def parse_network(kind: StationKind, text: str) -> MacSignal | None:
    """A `--wifi`/`--blue` value → MacSignal keyed by v1 digest; None for networks never used
    (randomised Wi-Fi MACs, opt-out or empty names)."""
    body, signal = _split_signal(text.strip())
    if body.lower().startswith("v"):
        try:
            return MacSignal(parse_station_id(body).digest, signal)
        except ValueError as error:
            raise ScanFormatError(str(error)) from error
    mac_text, sep, name = body.partition(",")
    mac = normalize_mac(mac_text)
    if mac is None or not sep:
        raise ScanFormatError(f"expected MAC,NAME[,SIGNAL] or v1:<hex>[,SIGNAL], got {text!r}")
    cleaned = clean_name(name)
    if cleaned is None or is_nomap_ssid(cleaned) or (kind is StationKind.WIFI and is_private_mac(mac)):
        return None
    return MacSignal(station_digest(kind, mac, cleaned), signal)


def parse_cell(text: str) -> CellSignal:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (5, 6):
        raise ScanFormatError(f"expected RADIO,MCC,MNC,LAC,CID[,SIGNAL], got {text!r}")
    try:
        mcc, lac, cid = int(parts[1]), int(parts[3]), int(parts[4])
        signal = int(parts[5]) if len(parts) == 6 else None
    except ValueError as error:
        raise ScanFormatError(f"not a number in {text!r}") from error
    if not parts[2].isdigit():
        raise ScanFormatError(f"MNC must be digits in {text!r}")
    ids = cell_ids(parse_radio(parts[0]), mcc, int(parts[2]), parts[2], lac, cid)
    if not ids:
        raise ScanFormatError(f"not a valid cell: {text!r}")
    return CellSignal(tuple(ids), signal)


def parse_scan(
    wifis: Sequence[str], blues: Sequence[str], cells: Sequence[str], lacf: bool = True
) -> LocateQuery:
    """The engine's query for what a device sees (networks by v1 digest; no GeoIP offline)."""

    def networks(kind: StationKind, values: Sequence[str]) -> tuple[MacSignal, ...]:
        found = [parse_network(kind, value) for value in values]
        return tuple({m.mac: m for m in found if m is not None}.values())

    return LocateQuery(
        wifis=networks(StationKind.WIFI, wifis),
        blues=networks(StationKind.BLUE, blues),
        cells=tuple(parse_cell(c) for c in cells),
        lacf=lacf,
        ipf=False,
    )


class UnknownPackRegion(ValueError):
    """A pack asked for a region that does not exist (not an ISO 3166 code or a known MCC)."""


# What a pack region may be spelled as: two ASCII letters, or three ASCII digits with an optional
# `mcc-` prefix. Anything else (Unicode digits such as "²" or "٢٦٢", 4 400-digit numbers, other
# scripts) is no region, checked before any conversion.
_REGION_SPELLING = re.compile(r"(?:[A-Za-z]{2}|(?:mcc-)?([0-9]{3}))", re.ASCII | re.IGNORECASE)


def pack_region(value: str) -> str:
    """Normalise a pack region: `DE`/`de` → `DE`, `mcc-262`/`262` → `mcc-262`; else UnknownPackRegion."""
    from openloc.geo.regions import region_by_code, regions_for_mcc

    text = value.strip()
    spelled = _REGION_SPELLING.fullmatch(text)
    if spelled is None:
        raise UnknownPackRegion(f"unknown region {text[:16]!r}: use an ISO 3166 alpha-2 code or mcc-NNN")
    digits = spelled.group(1)
    if digits is not None:
        if regions_for_mcc(int(digits)):
            return f"mcc-{int(digits)}"
        raise UnknownPackRegion(f"unknown mobile country code {digits!r}")
    found = region_by_code(text)
    if found is None:
        raise UnknownPackRegion(f"unknown region {text!r}: use an ISO 3166 alpha-2 code or mcc-NNN")
    return found.code
