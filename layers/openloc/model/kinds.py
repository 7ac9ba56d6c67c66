"""The names the whole service shares: station kinds, cell radios and published file kinds.

Each value is the one spelling used in table keys, queue messages, public files and logs.
"""

from __future__ import annotations

from enum import StrEnum


class StationKind(StrEnum):
    """What a station is; the value is its table-key prefix."""

    WIFI = "wifi"
    BLUE = "blue"  # Bluetooth (low energy) beacons
    CELL = "cell"


MAC_KINDS = (StationKind.WIFI, StationKind.BLUE)


class Radio(StrEnum):
    """A cell's radio technology (wire aliases such as "umts" are read by `keys.parse_radio`)."""

    GSM = "gsm"
    WCDMA = "wcdma"
    LTE = "lte"
    NR = "nr"


class FileKind(StrEnum):
    """Kinds of the files listed in the public downloads manifest (`downloads.json`).

    The values are published identifiers that mirrors and the website read; they do not change
    with the code's spelling (the Bluetooth dump stays "ble-dump").
    """

    CELL_FULL = "cell-full"
    CELL_DIFF = "cell-diff"
    WIFI_DUMP = "wifi-dump"
    BLUE_DUMP = "ble-dump"
    OFFLINE_PACK = "offline-pack"

    @classmethod
    def dump(cls, kind: StationKind) -> FileKind:
        """The dump kind of a Wi-Fi or Bluetooth station kind."""
        return cls.WIFI_DUMP if kind is StationKind.WIFI else cls.BLUE_DUMP
