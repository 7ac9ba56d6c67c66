"""The normalised observation report: what the submit API enqueues and the aggregator consumes.

One schema for all three submission formats (v2 geosubmit, v1 geosubmit, legacy submit). Values
are already range-checked: out-of-range optional values are dropped, entries without a valid
identity are dropped, and a report without a usable position or without enough networks is
rejected as a whole (`usable`). The client's IP is never part of a report.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from openloc.station_keys import Radio


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class WifiObservation(_Frozen):
    mac: str
    signal: int | None = None
    age: int | None = None
    channel: int | None = None
    ssid: str | None = None


class BlueObservation(_Frozen):
    mac: str
    signal: int | None = None
    age: int | None = None
    name: str | None = None


class CellObservation(_Frozen):
    radio: Radio
    mcc: int
    mnc: str
    lac: int
    cid: int
    psc: int | None = None
    signal: int | None = None
    age: int | None = None
    timing_advance: int | None = None
    serving: bool | None = None


class Report(_Frozen):
    timestamp: int  # ms since the epoch
    latitude: float
    longitude: float
    accuracy: float | None = None
    altitude: float | None = None
    heading: float | None = None
    speed: float | None = None
    source: Literal["gps", "manual", "fused", "query"] = "gps"
    wifi: tuple[WifiObservation, ...] = ()
    bluetooth: tuple[BlueObservation, ...] = ()
    cells: tuple[CellObservation, ...] = ()
    api_key: str | None = None  # the submitter key's digest (`openloc.api.keys.key_digest`)

    @property
    def usable(self) -> bool:
        """≥ 1 cell or Bluetooth beacon, or ≥ 2 Wi-Fi networks (the contract's minimum)."""
        return bool(self.cells) or bool(self.bluetooth) or len(self.wifi) >= 2
