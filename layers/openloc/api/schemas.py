"""Wire schemas of the HTTP contract (docs/api.md; Ichnaea / Google Geolocation API).

Field names are the wire names (camelCase where the contract says so). Every request field is
optional and tolerant: a wrong type drops that field or entry, never the request. Range checks
belong to the domain normalisation (`openloc.locate.query`, `openloc.model.reports`), which
drops out-of-range values the way Ichnaea did. These models also generate `/openapi.json`.
"""

# ruff: noqa: N815  (wire names are camelCase by contract)

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from openloc.api.lenient import Float, Int, Items, Opt


class Schema(BaseModel):
    """Base of every wire model. Validators are built on first use, not at import (the cold
    start of a handler builds only the models its requests need; SnapStart's warm-up builds
    them before the snapshot, `openloc.api.services.warm_up`)."""

    model_config = ConfigDict(defer_build=True)


class WireModel(Schema):
    """Base for request models: unknown fields ignored, numbers as strings accepted."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


# --- geolocate / region -------------------------------------------------------------------


_MNC_TEXT = re.compile(r"[0-9]{2,3}")


class CellTower(WireModel):
    radioType: Opt[str] = Field(default=None, description="gsm, wcdma (umts), lte or nr")
    radio: Opt[str] = Field(default=None, description="legacy alias of radioType; radioType wins")
    mobileCountryCode: Opt[Int] = None
    mobileNetworkCode: Opt[Int] = None
    mobileCountryCodeStr: Opt[str] = Field(default=None, description="MCC as sent by Android")
    mobileNetworkCodeStr: Opt[str] = Field(default=None, description="MNC keeping leading zeros")
    locationAreaCode: Opt[Int] = Field(default=None, description="LAC (GSM/WCDMA) or TAC (LTE/NR)")
    cellId: Opt[Int] = Field(default=None, description="cell identity; NR needs 64 bits")
    age: Opt[Int] = Field(default=None, description="ms since the cell was seen; may be negative")
    psc: Opt[Int] = None
    primaryScramblingCode: Opt[Int] = Field(default=None, description="PSC (WCDMA) or PCI (LTE/NR)")
    signalStrength: Opt[Int] = Field(default=None, description="dBm")
    timingAdvance: Opt[Int] = None
    asu: Opt[Int] = None
    serving: Opt[Int] = None
    arfcn: Opt[Int] = None

    @model_validator(mode="before")
    @classmethod
    def _mnc_text_keeps_its_zeros(cls, data: Any) -> Any:
        """`"mobileNetworkCode": "01"` names the two-digit MNC 01 (not 001): keep that spelling
        as `mobileNetworkCodeStr` when the client did not send the string twin itself."""
        if isinstance(data, dict):
            mnc = data.get("mobileNetworkCode")
            if (
                isinstance(mnc, str)
                and _MNC_TEXT.fullmatch(mnc.strip())
                and not data.get("mobileNetworkCodeStr")
            ):
                return {**data, "mobileNetworkCodeStr": mnc.strip()}
        return data


class WifiAccessPoint(WireModel):
    macAddress: Opt[str] = Field(default=None, description="BSSID; any case, separators : - . or none")
    age: Opt[Int] = None
    channel: Opt[Int] = None
    frequency: Opt[Int] = Field(default=None, description="MHz")
    signalStrength: Opt[Int] = Field(default=None, description="dBm")
    signalToNoiseRatio: Opt[Int] = None
    ssid: Opt[str] = None
    radioType: Opt[str] = Field(default=None, description="802.11a/b/g/n/ac/ax/be")
    hashedId: Opt[str] = Field(
        default=None,
        description=(
            "published identifier `v1:<32 hex>` (docs/privacy.md) instead of the raw MAC; used "
            "when macAddress is absent. Unknown versions or malformed values: 400 parseError"
        ),
    )


class BluetoothBeacon(WireModel):
    macAddress: Opt[str] = None
    name: Opt[str] = None
    hashedId: Opt[str] = Field(
        default=None,
        description=(
            "published identifier `v1:<32 hex>` (docs/privacy.md) instead of the raw MAC; used "
            "when macAddress is absent. Unknown versions or malformed values: 400 parseError"
        ),
    )
    age: Opt[Int] = None
    signalStrength: Opt[Int] = Field(default=None, description="dBm")


class Fallbacks(WireModel):
    lacf: Opt[bool] = Field(default=None, description="cell-area fallback (default true)")
    ipf: Opt[bool] = Field(default=None, description="GeoIP fallback (default true)")


class LocateRequest(WireModel):
    """Body of POST /v1/geolocate and POST /v1/region (all fields optional)."""

    carrier: Opt[str] = None
    considerIp: Opt[bool] = Field(default=None, description="default true; `fallbacks.ipf` wins")
    homeMobileCountryCode: Opt[Int] = None
    homeMobileNetworkCode: Opt[Int] = None
    radioType: Opt[str] = Field(default=None, description="default radio for cells without one")
    cellTowers: Items[CellTower] = Field(default_factory=list)
    wifiAccessPoints: Items[WifiAccessPoint] = Field(default_factory=list)
    bluetoothBeacons: Items[BluetoothBeacon] = Field(default_factory=list)
    fallbacks: Opt[Fallbacks] = None


class LatLng(Schema):
    lat: float
    lng: float


class GeolocateResponse(Schema):
    location: LatLng
    accuracy: float = Field(description="radius in metres of the 95 % confidence circle")
    fallback: Literal["lacf", "ipf"] | None = Field(
        default=None, description="present only when a fallback produced the answer"
    )


class RegionResponse(Schema):
    country_code: str
    country_name: str
    fallback: Literal["ipf"] | None = None


# --- legacy /v1/search ----------------------------------------------------------------------


class LegacyCell(WireModel):
    radio: Opt[str] = None
    mcc: Opt[Int] = None
    mnc: Opt[Int] = None
    lac: Opt[Int] = None
    cid: Opt[Int] = None
    psc: Opt[Int] = None
    signal: Opt[Int] = None
    asu: Opt[Int] = None
    ta: Opt[Int] = None
    age: Opt[Int] = None


class LegacyWifi(WireModel):
    key: Opt[str] = None
    channel: Opt[Int] = None
    frequency: Opt[Int] = None
    signal: Opt[Int] = None
    age: Opt[Int] = None
    ssid: Opt[str] = None


class LegacyBlue(WireModel):
    key: Opt[str] = None
    name: Opt[str] = None
    signal: Opt[Int] = None
    age: Opt[Int] = None


class SearchRequest(WireModel):
    radio: Opt[str] = None
    cell: Items[LegacyCell] = Field(default_factory=list)
    wifi: Items[LegacyWifi] = Field(default_factory=list)
    blue: Items[LegacyBlue] = Field(default_factory=list)
    fallbacks: Opt[Fallbacks] = None


class SearchResponse(Schema):
    status: Literal["ok", "not_found"]
    lat: float | None = None
    lon: float | None = None
    accuracy: float | None = None
    fallback: Literal["lacf", "ipf"] | None = None


# --- submission -----------------------------------------------------------------------------


class Position(WireModel):
    latitude: Opt[Float] = None
    longitude: Opt[Float] = None
    accuracy: Opt[Float] = None
    altitude: Opt[Float] = None
    altitudeAccuracy: Opt[Float] = None
    age: Opt[Int] = None
    heading: Opt[Float] = None
    pressure: Opt[Float] = None
    speed: Opt[Float] = None
    source: Opt[str] = Field(default=None, description="gps (default), manual or fused")


class Connection(WireModel):
    ip: Opt[str] = Field(default=None, description="accepted and never stored")


class GeosubmitItem(WireModel):
    """One report of POST /v2/geosubmit."""

    timestamp: Opt[Int] = Field(default=None, description="ms since the epoch")
    position: Opt[Position] = None
    connection: Opt[Connection] = None
    radioType: Opt[str] = Field(default=None, description="radio of the report's cells that name none")
    cellTowers: Items[CellTower] = Field(default_factory=list)
    wifiAccessPoints: Items[WifiAccessPoint] = Field(default_factory=list)
    bluetoothBeacons: Items[BluetoothBeacon] = Field(default_factory=list)


class GeosubmitRequest(WireModel):
    items: Items[GeosubmitItem] = Field(default_factory=list)


class GeosubmitV1Item(WireModel):
    """One report of POST /v1/geosubmit: the geolocate body plus flat position fields."""

    latitude: Opt[Float] = None
    longitude: Opt[Float] = None
    timestamp: Opt[Int] = None
    accuracy: Opt[Float] = None
    altitude: Opt[Float] = None
    altitudeAccuracy: Opt[Float] = None
    heading: Opt[Float] = None
    speed: Opt[Float] = None
    pressure: Opt[Float] = None
    source: Opt[str] = None
    radioType: Opt[str] = None
    cellTowers: Items[CellTower] = Field(default_factory=list)
    wifiAccessPoints: Items[WifiAccessPoint] = Field(default_factory=list)
    bluetoothBeacons: Items[BluetoothBeacon] = Field(default_factory=list)


class GeosubmitV1Request(WireModel):
    items: Items[GeosubmitV1Item] = Field(default_factory=list)


class LegacySubmitItem(WireModel):
    """One report of legacy POST /v1/submit (`time` is an ISO-8601 string)."""

    lat: Opt[Float] = None
    lon: Opt[Float] = None
    time: Opt[str] = None
    accuracy: Opt[Float] = None
    altitude: Opt[Float] = None
    altitude_accuracy: Opt[Float] = None
    heading: Opt[Float] = None
    speed: Opt[Float] = None
    radio: Opt[str] = None
    cell: Items[LegacyCell] = Field(default_factory=list)
    wifi: Items[LegacyWifi] = Field(default_factory=list)
    blue: Items[LegacyBlue] = Field(default_factory=list)


class LegacySubmitRequest(WireModel):
    items: Items[LegacySubmitItem] = Field(default_factory=list)


class EmptyResponse(Schema):
    """`{}`: the submission was accepted (durably queued)."""


# --- monitoring -----------------------------------------------------------------------------


class BackendStatus(Schema):
    up: bool | None
    time: int = Field(description="check duration in ms, -1 when it failed")


class GeoIpStatus(BackendStatus):
    age_in_days: int | None = Field(
        default=None, description="days since the oldest GeoIP file in use was built (null: none in use)"
    )


class HeartbeatResponse(Schema):
    database: BackendStatus
    geoip: GeoIpStatus = Field(
        description="up null: no GeoIP database configured (GEOIP_PATH empty); false: configured "
        "but a file is missing or unreadable"
    )
    redis: BackendStatus


class LbHeartbeatResponse(Schema):
    status: Literal["OK"]


class VersionResponse(Schema):
    source: str
    version: str
    commit: str
    build: str


# --- errors ---------------------------------------------------------------------------------


class ErrorDetail(Schema):
    domain: str
    reason: str
    message: str


class ErrorInfo(Schema):
    errors: list[ErrorDetail]
    code: int
    message: str


class ErrorResponse(Schema):
    error: ErrorInfo


# --- offline packs --------------------------------------------------------------------------


class OfflinePackPart(Schema):
    """One part of a region's pack (a dense region is split by grid cells into parts ≤ 100 MB)."""

    part: int = Field(ge=1, description="1-based part number")
    path: str = Field(description="object key in the assets bucket; download from the site at /<path>")
    size: int = Field(description="bytes of the download")
    rows: int | None = Field(default=None, description="stations, cells and areas in the part")
    sha256: str
    bbox: list[float] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="[west, south, east, north] (degrees) of the stations and cells the part holds; "
        "absent for a pack written before packs had parts",
    )


class OfflinePackResponse(Schema):
    """Where to download the newest offline pack of a region (entries of `downloads.json`). The
    top-level fields describe part 1 (what clients that predate parts download); `parts` lists
    every part of the same generation. Each part is a complete pack: a client uses all of them
    (each station or cell is in exactly one part, the cell areas are in every part)."""

    region: str = Field(description='ISO 3166 alpha-2 code ("DE") or "mcc-262"')
    path: str = Field(description="object key in the assets bucket; download from the site at /<path>")
    format: str = Field(description='"sqlite.gz": gzip-compressed SQLite (schema in docs/privacy.md)')
    size: int = Field(description="bytes of the download")
    rows: int | None = Field(default=None, description="stations, cells and areas in the pack")
    sha256: str
    created: str = Field(description="when the pack was built (UTC, ISO 8601)")
    parts: list[OfflinePackPart] = Field(
        description="every part of this generation, by part number (one entry for an unsplit region)"
    )


def build_validators() -> None:
    """Build every model's validator now instead of on first use (SnapStart's warm-up)."""
    for value in list(globals().values()):
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            value.model_rebuild()
