"""The item format instances exchange: one cell as published (an MLS CSV row), one Wi-Fi or
Bluetooth station, one cell area. The CSV export and `openloc import` use `CellItem` (one row
each); `POST /v1/transfer` carries all three kinds as JSON (see docs/api.md).

`station_item` and `area_item` turn stored rows into items (the sending side of instance sync,
`openloc transfer`).

Validation is the same everywhere: a cell needs a supported radio, an MCC, a network code and
LAC/TAC and cell id inside the radio's ranges (`openloc.model.keys`), and a position on Earth.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openloc.model.keys import (
    MAX_CID,
    CellId,
    blue_key,
    cell_ids,
    normalize_mac,
    parse_area_key,
    parse_key,
    parse_radio,
    storable_mac,
    wifi_key,
)
from openloc.model.kinds import Radio
from openloc.model.records import StationRecord

RADIO_NAMES = {Radio.GSM: "GSM", Radio.WCDMA: "UMTS", Radio.LTE: "LTE", Radio.NR: "NR"}
_RADIOS_BY_NAME = {name: radio for radio, name in RADIO_NAMES.items()}
MAX_TIMESTAMP = 32503680000  # year 3000: anything later is milliseconds or garbage


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _radio_name(value: Any) -> Any:
    """Any radio spelling the wire or dumps use (gsm, UMTS, wcdma, lte, nr) → the export's name."""
    radio = parse_radio(value) if isinstance(value, str) else None
    return RADIO_NAMES[radio] if radio is not None else value


def to_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class _Positioned(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", str_strip_whitespace=True)

    lon: float = Field(ge=-180, le=180, description="longitude (WGS 84 degrees)")
    lat: float = Field(ge=-90, le=90, description="latitude (WGS 84 degrees)")
    range: int = Field(default=0, ge=0, le=1_000_000, description="radius in metres")
    samples: int = Field(default=0, ge=0, le=2**32 - 1, description="observations aggregated")
    created: int = Field(default=0, ge=0, le=MAX_TIMESTAMP, description="first seen, Unix seconds")
    updated: int = Field(default=0, ge=0, le=MAX_TIMESTAMP, description="last changed, Unix seconds")

    @field_validator("range", "samples", "created", "updated", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        """Blank → default; "12.0" and 12.6 (some dumps write floats) → 12 / 13."""
        value = _blank_to_none(value)
        if value is None:
            return 0
        if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
            try:
                value = float(value)
            except ValueError:
                return value  # let the int validator report it
        if isinstance(value, float) and math.isfinite(value):
            return round(value)
        return value

    @field_validator("lat", "lon")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return value


class _NetworkCode(BaseModel):
    @field_validator("net", mode="before", check_fields=False)
    @classmethod
    def _net_digits(cls, value: Any) -> Any:
        """MNC as digits; the string keeps leading zeros ("01" and "001" differ)."""
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return str(value) if 0 <= value <= 999 else value
        return value


class CellItem(_Positioned, _NetworkCode):
    """One cell as published in the MLS CSV export (column names as in its header)."""

    radio: Literal["GSM", "UMTS", "LTE", "NR"] = Field(description="GSM, UMTS, LTE or NR")
    mcc: int = Field(ge=1, le=999)
    net: str = Field(pattern=r"^[0-9]{1,3}$", description="MNC (digits; leading zeros kept)")
    area: int = Field(ge=1, description="LAC (GSM/UMTS) or TAC (LTE/NR)")
    cell: int = Field(ge=1, le=MAX_CID[Radio.NR], description="cell id (UMTS: RNC × 65536 + CID)")
    unit: int | None = Field(default=None, ge=0, le=1007, description="PSC (UMTS) or PCI (LTE/NR)")
    changeable: int | None = Field(default=None, description="ignored on input; always 1 on output")
    averageSignal: int | None = Field(default=None, description="ignored (not kept by OpenLoc)")  # noqa: N815

    @field_validator("radio", mode="before")
    @classmethod
    def _radio(cls, value: Any) -> Any:
        return _radio_name(value)

    @field_validator("unit", "changeable", "averageSignal", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return value
        if isinstance(value, float) and math.isfinite(value):
            value = round(value)
        return None if isinstance(value, int) and value < 0 else value  # -1 = unknown

    @model_validator(mode="after")
    def _identity(self) -> CellItem:
        if self.cell_id is None:
            raise ValueError("cell identity out of range for its radio")
        return self

    @property
    def cell_id(self) -> CellId | None:
        ids = cell_ids(_RADIOS_BY_NAME[self.radio], self.mcc, None, self.net, self.area, self.cell)
        return ids[0] if ids else None

    def to_record(self, region: str | None = None, default_time: datetime | None = None) -> StationRecord:
        """The station row this item stands for (no bbox: the row is its centre). Rows without
        times (some dumps) take `default_time`, e.g. the time of the import."""
        cell = self.cell_id
        assert cell is not None
        created = to_datetime(self.created or self.updated)
        modified = to_datetime(self.updated or self.created)
        if not (self.created or self.updated) and default_time is not None:
            created = modified = default_time
        return StationRecord(
            key=cell.key,
            lat=self.lat,
            lon=self.lon,
            radius=float(self.range),
            region=region,
            samples=self.samples,
            weight=float(self.samples),
            psc=self.unit,
            created=created,
            modified=modified,
            last_seen=modified.date().isoformat(),
            version=1,
        )


class StationItem(_Positioned):
    """One Wi-Fi access point or Bluetooth beacon (transfer only: never published). The MAC must
    be one a station may have (`model.keys.storable_mac`: the aggregator's rule)."""

    kind: Literal["wifi", "blue"]
    mac: str = Field(description="MAC address, any case and separators; Wi-Fi: universal unicast")

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str) -> str:
        mac = normalize_mac(value)
        if mac is None:
            raise ValueError("not a usable MAC address")
        return mac

    @model_validator(mode="after")
    def _storable(self) -> StationItem:
        if not storable_mac(self.kind, self.mac):
            raise ValueError("a Wi-Fi station needs a universally administered unicast MAC")
        return self

    @property
    def key(self) -> str:
        return wifi_key(self.mac) if self.kind == "wifi" else blue_key(self.mac)


class CellAreaItem(_Positioned, _NetworkCode):
    """One cell area (location area) as computed by the sending instance."""

    radio: Literal["GSM", "UMTS", "LTE", "NR"]
    mcc: int = Field(ge=1, le=999)
    net: str = Field(pattern=r"^[0-9]{1,3}$")
    area: int = Field(ge=1)
    avgCellRange: int = Field(default=0, ge=0, le=1_000_000, description="mean radius of its cells (m)")  # noqa: N815
    numCells: int = Field(default=0, ge=0, description="positioned cells in the area")  # noqa: N815

    @field_validator("radio", mode="before")
    @classmethod
    def _radio(cls, value: Any) -> Any:
        return _radio_name(value)

    @property
    def key(self) -> str:
        return f"area#{_RADIOS_BY_NAME[self.radio]}#{self.mcc}#{self.net.zfill(2)}#{self.area}"


class TransferRequest(BaseModel):
    """`POST /v1/transfer`: one batch of aggregated items from another instance."""

    model_config = ConfigDict(extra="forbid")

    batch: str = Field(
        pattern=r"^[-_.:A-Za-z0-9]{1,128}$",
        description="the sender's id of this batch: a batch id already merged is not merged again",
    )
    cells: list[CellItem] = Field(default_factory=list, description="cells (the export's row shape)")
    stations: list[StationItem] = Field(default_factory=list, description="Wi-Fi and Bluetooth stations")
    areas: list[CellAreaItem] = Field(default_factory=list, description="cell areas")

    @property
    def size(self) -> int:
        return len(self.cells) + len(self.stations) + len(self.areas)


def _seconds(value: datetime | None) -> int:
    return max(int(value.timestamp()), 0) if value is not None else 0


def _common(record: StationRecord) -> dict[str, Any]:
    return {
        "lat": record.lat,
        "lon": record.lon,
        "range": round(record.radius or 0),
        "samples": record.samples,
        "created": _seconds(record.created),
        "updated": _seconds(record.modified),
    }


def station_item(record: StationRecord) -> CellItem | StationItem | None:
    """The transfer item of a positioned station row (the sending side of instance sync); None for
    rows that are no station, have no position, or would not pass the receiver's validation."""
    from pydantic import ValidationError

    parsed = parse_key(record.key)
    if parsed is None or record.lat is None or record.lon is None:
        return None
    try:
        if parsed.cell is not None:
            cell = parsed.cell
            return CellItem.model_validate(
                {
                    "radio": RADIO_NAMES[cell.radio], "mcc": cell.mcc, "net": cell.mnc, "area": cell.lac,
                    "cell": cell.cid, "unit": record.psc, **_common(record),
                }
            )  # fmt: skip
        return StationItem.model_validate({"kind": str(parsed.kind), "mac": parsed.mac, **_common(record)})
    except ValidationError:
        return None


def area_item(record: StationRecord) -> CellAreaItem | None:
    """The transfer item of a positioned cell area row; None otherwise."""
    from pydantic import ValidationError

    area = parse_area_key(record.key)
    if area is None or record.lat is None or record.lon is None:
        return None
    try:
        return CellAreaItem.model_validate(
            {
                "radio": RADIO_NAMES[area.radio], "mcc": area.mcc, "net": area.mnc, "area": area.lac,
                "avgCellRange": round(record.avg_cell_radius or 0), "numCells": record.num_cells,
                **_common(record),
            }
        )  # fmt: skip
    except ValidationError:
        return None
