"""The normalised observation report: what the submit API enqueues and the aggregator consumes.

One schema for all three submission formats (v2 geosubmit, v1 geosubmit, legacy submit). Values
are already range-checked: out-of-range optional values are dropped, entries without a valid
identity are dropped, and a report without a usable position or without enough networks is
rejected as a whole (`usable`). The client's IP is never part of a report.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from openloc.model.kinds import Radio


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
    # Station keys (`wifi#…`, `blue#…`) seen with an opt-out name (`_nomap`/`_optout`): only the
    # key is kept (no name, no signal), so the aggregator can withdraw the station (docs/privacy.md).
    opted_out: tuple[str, ...] = ()
    # Which key accepted the report (for attribution by the submit API), as a keyed digest
    # (`openloc.api.keys.key_digest`), never the key itself. Never archived.
    api_key: str | None = None
    # Who submitted it, as far as independent evidence goes (`openloc.api.sources`): a keyed,
    # truncated hash of the submitter's address group (IPv4 /24, IPv6 /48) and key digest. It
    # cannot be turned back into an address; archived, so a replay weighs evidence the same way.
    submitter: str | None = None

    @property
    def usable(self) -> bool:
        """≥ 1 cell or Bluetooth beacon, or ≥ 2 Wi-Fi networks (the contract's minimum), or an
        opt-out to carry out."""
        return bool(self.cells) or bool(self.bluetooth) or len(self.wifi) >= 2 or bool(self.opted_out)


# Fields of a report that never reach the raw archive (docs/privacy.md). The report has no IP,
# user agent or nickname field at all: the submit API never puts them into a report.
NOT_ARCHIVED = frozenset({"api_key"})


def archive_record(report: Report) -> dict[str, object]:
    """The JSON object archived for a report: everything needed to replay it, no contributor data."""
    return report.model_dump(mode="json", exclude_none=True, exclude=set(NOT_ARCHIVED))
