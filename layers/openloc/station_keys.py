"""Identities of stations: MAC normalisation, radio names, cell keys and the table keys built from them.

Table keys (DESIGN.md §3): `wifi#<12 hex>`, `blue#<12 hex>`,
`cell#<radio>#<mcc>#<mnc>#<lac>#<cid>` and `area#<radio>#<mcc>#<mnc>#<lac>`.
The MNC is kept as a string: "01" and "001" are different networks in some countries, so the
string twin sent by Android (`mobileNetworkCodeStr`) is kept as given. An integer MNC is written
with at least two digits; lookups from integer-only clients try both the 2- and 3-digit forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_HEX12 = re.compile(r"[0-9a-f]{12}")
_ASCII_DIGITS = re.compile(r"[0-9]{1,3}")
_SEPARATORS = str.maketrans("", "", ":-. ")
_REJECTED_MACS = frozenset({"000000000000", "ffffffffffff", "01005e901000"})


class Radio(StrEnum):
    GSM = "gsm"
    WCDMA = "wcdma"
    LTE = "lte"
    NR = "nr"


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


OPT_OUT_MARKERS = ("_nomap", "_optout")


def is_nomap_ssid(ssid: str | None) -> bool:
    """The opt-out convention: a Wi-Fi SSID or Bluetooth name containing `_nomap` or `_optout`
    anywhere (any case) must not be collected, used or published (docs/privacy.md)."""
    if not ssid:
        return False
    lowered = ssid.lower()
    return any(marker in lowered for marker in OPT_OUT_MARKERS)


def wifi_key(mac: str) -> str:
    return f"wifi#{mac}"


def blue_key(mac: str) -> str:
    return f"blue#{mac}"


def mnc_forms(mnc: int | None, mnc_str: str | None) -> tuple[str, ...]:
    """The MNC spellings a network may be stored under; the first is the one to write."""
    if mnc_str is not None and _ASCII_DIGITS.fullmatch(mnc_str):
        return (mnc_str if len(mnc_str) >= 2 else mnc_str.zfill(2),)
    if mnc is None or not 0 <= mnc <= 999:
        return ()
    two, three = f"{mnc:02d}", f"{mnc:03d}"
    return (two,) if two == three else (two, three)


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
        return f"cell#{self.radio}#{self.mcc}#{self.mnc}#{self.lac}#{self.cid}"

    @property
    def area_key(self) -> str:
        return f"area#{self.radio}#{self.mcc}#{self.mnc}#{self.lac}"


def area_key(radio: Radio, mcc: int, mnc: str, lac: int) -> str:
    return f"area#{radio}#{mcc}#{mnc}#{lac}"


def valid_cell_fields(radio: Radio, mcc: int | None, lac: int | None, cid: int | None) -> bool:
    """Ranges a cell must satisfy to be looked up or aggregated (−1 and 0 mean unknown)."""
    return (
        mcc is not None
        and 1 <= mcc <= 999
        and lac is not None
        and 1 <= lac <= MAX_LAC[radio]
        and cid is not None
        and 1 <= cid <= MAX_CID[radio]
    )


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
