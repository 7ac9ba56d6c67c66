"""Station identities and the table keys built from them: one key scheme, one parser.

Table keys (docs/design.md, "Data model"):

| kind | key |
|---|---|
| Wi-Fi access point | `wifi#<12 hex>` |
| Bluetooth beacon | `blue#<12 hex>` |
| cell | `cell#<radio>#<mcc>#<mnc>#<lac>#<cid>` |
| cell area | `area#<radio>#<mcc>#<mnc>#<lac>` |
| alias of a published identifier | `hash#<wifi or blue>#<32 hex>` |

Keys are built here (`mac_key`, `CellId.key`, `AreaId.key`, `alias_key`) and read back only
with `parse_key`, `key_kind` and `area_of`: no other module splits a key.

The MNC is kept as a string: "01" and "001" are different networks in some countries, so the
string twin sent by Android (`mobileNetworkCodeStr`) is kept as given. An integer MNC is written
with at least two digits; lookups from integer-only clients try both the 2- and 3-digit forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openloc.model.kinds import MAC_KINDS, Radio, StationKind

_HEX12 = re.compile(r"[0-9a-f]{12}")
_ASCII_DIGITS = re.compile(r"[0-9]{1,3}")
_NUMBER = re.compile(r"[0-9]{1,20}")
_SEPARATORS = str.maketrans("", "", ":-. ")
_REJECTED_MACS = frozenset({"000000000000", "ffffffffffff", "01005e901000"})
SEPARATOR = "#"
AREA_PREFIX = "area"
ALIAS_PREFIX = "hash"


_RADIO_ALIASES = {
    "gsm": Radio.GSM,
    "wcdma": Radio.WCDMA,
    "umts": Radio.WCDMA,
    "lte": Radio.LTE,
    "nr": Radio.NR,
}

# Valid ranges per radio (Ichnaea's constants, extended for NR's 24-bit TAC and 36-bit NCI).
MAX_LAC = {Radio.GSM: 65533, Radio.WCDMA: 65533, Radio.LTE: 65533, Radio.NR: 16_777_215}
MAX_CID = {Radio.GSM: 65535, Radio.WCDMA: 268_435_455, Radio.LTE: 268_435_455, Radio.NR: 68_719_476_735}
MAX_PSC = {Radio.GSM: -1, Radio.WCDMA: 511, Radio.LTE: 503, Radio.NR: 1007}


def parse_radio(value: str | None) -> Radio | None:
    """Wire radio name → Radio; `cdma`, empty and unknown names → None."""
    if not value:
        return None
    return _RADIO_ALIASES.get(value.strip().lower())


def cell_radio(*names: str | None) -> Radio | None:
    """The radio of a reported cell: the first of `names` that is sent (not missing or blank),
    most specific first — the cell's own `radioType`, its legacy `radio`, then the request's or
    report's item-level radio. The one rule of every wire form (the locate bodies and the three
    submission forms), as in Ichnaea: an item-level radio fills in for a cell that names none,
    and never overrides one the cell names. A cell that names a radio OpenLoc does not know
    (`"cdma"`, `"18"`) has none: it is not relabelled with the item's."""
    for name in names:
        if name and name.strip():
            return parse_radio(name)
    return None


def normalize_mac(value: str | None) -> str | None:
    """Any case and separators → 12 lower-case hex digits; None if not a usable address."""
    if not value:
        return None
    mac = value.strip().lower().translate(_SEPARATORS)
    if not _HEX12.fullmatch(mac) or mac in _REJECTED_MACS:
        return None
    return mac


def is_private_mac(mac: str) -> bool:
    """Multicast or locally administered (randomised) address: never located or stored for Wi-Fi."""
    first_octet = int(mac[:2], 16)
    return bool(first_octet & 0x01) or bool(first_octet & 0x02)


def storable_mac(kind: StationKind | str, mac: str) -> bool:
    """The one rule on which MACs may become stations, for every writer (submissions, instance
    sync): a Wi-Fi access point needs a universally administered unicast MAC (a randomised or
    multicast one identifies a phone or a group, not a place); Bluetooth beacons rotate their
    addresses by design, so any usable MAC is kept (docs/privacy.md)."""
    return kind != StationKind.WIFI or not is_private_mac(mac)


OPT_OUT_MARKERS = ("_nomap", "_optout")


def is_nomap_ssid(ssid: str | None) -> bool:
    """The opt-out convention: a Wi-Fi SSID or Bluetooth name containing `_nomap` or `_optout`
    anywhere (any case) must not be collected, used or published (docs/privacy.md)."""
    if not ssid:
        return False
    lowered = ssid.lower()
    return any(marker in lowered for marker in OPT_OUT_MARKERS)


def mac_key(kind: StationKind | str, mac: str) -> str:
    """`wifi#<mac>` or `blue#<mac>` (also for the offline engine, where `mac` is a v1 digest)."""
    return f"{kind}{SEPARATOR}{mac}"


def wifi_key(mac: str) -> str:
    return mac_key(StationKind.WIFI, mac)


def blue_key(mac: str) -> str:
    return mac_key(StationKind.BLUE, mac)


def alias_key(kind: StationKind | str, digest: str) -> str:
    """Key of the alias item that maps a published digest to its station (`hash#wifi#<hex>`)."""
    return f"{ALIAS_PREFIX}{SEPARATOR}{kind}{SEPARATOR}{digest}"


def mnc_forms(mnc: int | None, mnc_str: str | None) -> tuple[str, ...]:
    """The MNC spellings a network may be stored under; the first is the one to write."""
    if mnc_str is not None and _ASCII_DIGITS.fullmatch(mnc_str):
        return (mnc_str if len(mnc_str) >= 2 else mnc_str.zfill(2),)
    if mnc is None or not 0 <= mnc <= 999:
        return ()
    two, three = f"{mnc:02d}", f"{mnc:03d}"
    return (two,) if two == three else (two, three)


@dataclass(frozen=True, slots=True)
class AreaId:
    """A location area (radio, mcc, mnc, lac/tac)."""

    radio: Radio
    mcc: int
    mnc: str
    lac: int

    @property
    def key(self) -> str:
        return SEPARATOR.join((AREA_PREFIX, self.radio, str(self.mcc), self.mnc, str(self.lac)))


@dataclass(frozen=True, slots=True)
class CellId:
    """A fully identified cell (all five of radio, mcc, mnc, lac, cid)."""

    radio: Radio
    mcc: int
    mnc: str
    lac: int
    cid: int

    @property
    def key(self) -> str:
        return SEPARATOR.join(
            (StationKind.CELL, self.radio, str(self.mcc), self.mnc, str(self.lac), str(self.cid))
        )

    @property
    def area(self) -> AreaId:
        return AreaId(self.radio, self.mcc, self.mnc, self.lac)

    @property
    def area_key(self) -> str:
        return self.area.key


def area_key(radio: Radio, mcc: int, mnc: str, lac: int) -> str:
    return AreaId(radio, mcc, mnc, lac).key


@dataclass(frozen=True, slots=True)
class StationKey:
    """A parsed station key: a Wi-Fi/Bluetooth station has `mac`, a cell has `cell`."""

    kind: StationKind
    mac: str | None = None
    cell: CellId | None = None


def key_kind(key: str) -> StationKind | None:
    """The station kind of a key (`wifi#…` → WIFI); None for area, alias and unknown keys."""
    prefix = key.partition(SEPARATOR)[0]
    try:
        return StationKind(prefix)
    except ValueError:
        return None


def _cell_parts(parts: list[str]) -> tuple[Radio, int, str, int] | None:
    radio = parse_radio(parts[0])
    if radio is None or not _NUMBER.fullmatch(parts[1]) or not _NUMBER.fullmatch(parts[3]):
        return None
    if not _ASCII_DIGITS.fullmatch(parts[2]):
        return None
    return radio, int(parts[1]), parts[2], int(parts[3])


def parse_key(key: str) -> StationKey | None:
    """The station a key names, or None for area, alias and malformed keys."""
    kind, _, rest = key.partition(SEPARATOR)
    if kind in MAC_KINDS:
        return StationKey(StationKind(kind), mac=rest) if rest else None
    if kind != StationKind.CELL:
        return None
    parts = rest.split(SEPARATOR)
    if len(parts) != 5 or not _NUMBER.fullmatch(parts[4]):
        return None
    found = _cell_parts(parts)
    if found is None:
        return None
    return StationKey(StationKind.CELL, cell=CellId(*found, int(parts[4])))


def parse_area_key(key: str) -> AreaId | None:
    """The area an `area#…` key names, or None."""
    prefix, _, rest = key.partition(SEPARATOR)
    parts = rest.split(SEPARATOR)
    if prefix != AREA_PREFIX or len(parts) != 4:
        return None
    found = _cell_parts(parts)
    return AreaId(*found) if found is not None else None


def area_of(key: str) -> str | None:
    """The cell-area key of a cell key (`cell#r#mcc#mnc#lac#cid` → `area#r#mcc#mnc#lac`)."""
    parsed = parse_key(key) if key.startswith(StationKind.CELL) else None
    return parsed.cell.area_key if parsed is not None and parsed.cell is not None else None


def valid_area_fields(radio: Radio, mcc: int | None, lac: int | None) -> bool:
    """Ranges a location area must satisfy to be looked up (−1 and 0 mean unknown)."""
    return mcc is not None and 1 <= mcc <= 999 and lac is not None and 1 <= lac <= MAX_LAC[radio]


def valid_cell_fields(radio: Radio, mcc: int | None, lac: int | None, cid: int | None) -> bool:
    """Ranges a cell must satisfy to be looked up or aggregated (−1 and 0 mean unknown)."""
    return valid_area_fields(radio, mcc, lac) and cid is not None and 1 <= cid <= MAX_CID[radio]


def area_ids(
    radio: Radio | None, mcc: int | None, mnc: int | None, mnc_str: str | None, lac: int | None
) -> list[AreaId]:
    """Every table identity of a reported cell's location area (one per MNC spelling); [] if the
    area is not identified. For a cell sent without a usable cell id: its area is still known."""
    if radio is None or not valid_area_fields(radio, mcc, lac):
        return []
    assert mcc is not None and lac is not None
    return [AreaId(radio, mcc, form, lac) for form in mnc_forms(mnc, mnc_str)]


def cell_ids(
    radio: Radio | None,
    mcc: int | None,
    mnc: int | None,
    mnc_str: str | None,
    lac: int | None,
    cid: int | None,
) -> list[CellId]:
    """Every table identity a reported cell may have (one per MNC spelling); [] if not identified.

    A GSM cell with a cell id above 16 bits is a UMTS cell misreported by the phone (Ichnaea's rule).
    """
    if radio is None:
        return []
    if radio is Radio.GSM and cid is not None and cid > MAX_CID[Radio.GSM]:
        radio = Radio.WCDMA
    if not valid_cell_fields(radio, mcc, lac, cid):
        return []
    assert mcc is not None and lac is not None and cid is not None
    return [CellId(radio, mcc, form, lac, cid) for form in mnc_forms(mnc, mnc_str)]
