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

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openloc.locate.query import CellSignal, LocateQuery, MacSignal
from openloc.model.identifiers import clean_name, parse_station_id, station_digest
from openloc.model.keys import cell_ids, is_nomap_ssid, is_private_mac, normalize_mac, parse_radio
from openloc.model.kinds import FileKind, StationKind
from openloc.publish.manifest import DownloadFile

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


# --- packs in parts -----------------------------------------------------------------------------
#
# A region's pack generation is 1..N parts (the writer splits a dense region by grid cells so each
# part stays ≤ 100 MB uncompressed). Each part is one `downloads.json` entry of kind
# `offline-pack` with three extra fields: `part` (1-based), `parts` (N) and `bbox`
# ([west, south, east, north] of what the part holds). Entries written before parts existed have
# none of them and count as part 1 of 1 without a bbox.


@dataclass(frozen=True)
class PackPart:
    """One part of a region's pack generation, as listed in the manifest."""

    part: int
    parts: int
    entry: DownloadFile
    bbox: tuple[float, float, float, float] | None

    @property
    def generation(self) -> tuple[str, int]:
        """Parts of one generation share the folder of their files and their count."""
        return self.entry.path.rpartition("/")[0], self.parts


def _bbox(value: object) -> tuple[float, float, float, float] | None:
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return None
    west, south, east, north = (float(v) for v in value)
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        return None
    return west, south, east, north


def pack_part(entry: DownloadFile) -> PackPart | None:
    """The entry's place in its generation; None when its `part`/`parts` fields are unusable."""
    extra = entry.model_extra or {}
    part, parts = extra.get("part", 1), extra.get("parts", 1)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (part, parts)):
        return None
    if not 1 <= part <= parts:
        return None
    return PackPart(part, parts, entry, _bbox(extra.get("bbox")))


def newest_pack_parts(files: Iterable[DownloadFile], region: str) -> list[PackPart]:
    """Every part of the region's newest complete generation, by part number ([] when none).

    A generation whose parts are not all listed (a writer that has not finished, an entry
    dropped) is passed over for the previous complete one."""
    generations: dict[tuple[str, int], dict[int, PackPart]] = {}
    for entry in files:
        if entry.kind != FileKind.OFFLINE_PACK or entry.region != region:
            continue
        found = pack_part(entry)
        if found is None:
            continue
        parts = generations.setdefault(found.generation, {})
        current = parts.get(found.part)
        if current is None or (entry.created, entry.path) > (current.entry.created, current.entry.path):
            parts[found.part] = found
    complete = [parts for (_, count), parts in generations.items() if len(parts) == count]
    if not complete:
        return []
    newest = max(complete, key=lambda parts: max((p.entry.created, p.entry.path) for p in parts.values()))
    return [newest[number] for number in sorted(newest)]
