"""Wire schemas of the HTTP contract (DESIGN.md §4, Ichnaea / Google Geolocation API).

Field names are the wire names (camelCase where the contract says so). Every request field is
optional and tolerant: a wrong type drops that field or entry, never the request. Range checks
belong to the domain normalisation (`openloc.locate.query`, `openloc.aggregate.reports`), which
drops out-of-range values the way Ichnaea did. These models also generate `/openapi.json`.
"""

# ruff: noqa: N815  (wire names are camelCase by contract)

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from openloc.api.lenient import Items, Opt


class WireModel(BaseModel):
    """Base for request models: unknown fields ignored, numbers as strings accepted."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# --- geolocate / region -------------------------------------------------------------------


class CellTower(WireModel):
    radioType: Opt[str] = Field(default=None, description="gsm, wcdma (umts), lte or nr")
    radio: Opt[str] = Field(default=None, description="legacy alias of radioType; radioType wins")
    mobileCountryCode: Opt[int] = None
    mobileNetworkCode: Opt[int] = None
    mobileCountryCodeStr: Opt[str] = Field(default=None, description="MCC as sent by Android")
    mobileNetworkCodeStr: Opt[str] = Field(default=None, description="MNC keeping leading zeros")
    locationAreaCode: Opt[int] = Field(default=None, description="LAC (GSM/WCDMA) or TAC (LTE/NR)")
    cellId: Opt[int] = Field(default=None, description="cell identity; NR needs 64 bits")
    age: Opt[int] = Field(default=None, description="ms since the cell was seen; may be negative")
    psc: Opt[int] = None
    primaryScramblingCode: Opt[int] = Field(default=None, description="PSC (WCDMA) or PCI (LTE/NR)")
    signalStrength: Opt[int] = Field(default=None, description="dBm")
    timingAdvance: Opt[int] = None
    asu: Opt[int] = None
    serving: Opt[int] = None
    arfcn: Opt[int] = None


class WifiAccessPoint(WireModel):
    macAddress: Opt[str] = Field(default=None, description="BSSID; any case, separators : - . or none")
    age: Opt[int] = None
    channel: Opt[int] = None
    frequency: Opt[int] = Field(default=None, description="MHz")
    signalStrength: Opt[int] = Field(default=None, description="dBm")
    signalToNoiseRatio: Opt[int] = None
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
    age: Opt[int] = None
    signalStrength: Opt[int] = Field(default=None, description="dBm")


class Fallbacks(WireModel):
    lacf: Opt[bool] = Field(default=None, description="cell-area fallback (default true)")
    ipf: Opt[bool] = Field(default=None, description="GeoIP fallback (default true)")


class LocateRequest(WireModel):
    """Body of POST /v1/geolocate and POST /v1/region (all fields optional)."""

    carrier: Opt[str] = None
    considerIp: Opt[bool] = Field(default=None, description="default true; `fallbacks.ipf` wins")
    homeMobileCountryCode: Opt[int] = None
    homeMobileNetworkCode: Opt[int] = None
    radioType: Opt[str] = Field(default=None, description="default radio for cells without one")
    cellTowers: Items[CellTower] = Field(default_factory=list)
    wifiAccessPoints: Items[WifiAccessPoint] = Field(default_factory=list)
    bluetoothBeacons: Items[BluetoothBeacon] = Field(default_factory=list)
    fallbacks: Opt[Fallbacks] = None


class LatLng(BaseModel):
    lat: float
    lng: float


class GeolocateResponse(BaseModel):
    location: LatLng
    accuracy: float = Field(description="radius in metres of the 95 % confidence circle")
    fallback: Literal["lacf", "ipf"] | None = Field(
        default=None, description="present only when a fallback produced the answer"
    )


class RegionResponse(BaseModel):
    country_code: str
    country_name: str
    fallback: Literal["ipf"] | None = None


# --- legacy /v1/search ----------------------------------------------------------------------


class LegacyCell(WireModel):
    radio: Opt[str] = None
    mcc: Opt[int] = None
    mnc: Opt[int] = None
    lac: Opt[int] = None
    cid: Opt[int] = None
    psc: Opt[int] = None
    signal: Opt[int] = None
    asu: Opt[int] = None
    ta: Opt[int] = None
    age: Opt[int] = None


class LegacyWifi(WireModel):
    key: Opt[str] = None
    channel: Opt[int] = None
    frequency: Opt[int] = None
    signal: Opt[int] = None
    age: Opt[int] = None
    ssid: Opt[str] = None


class LegacyBlue(WireModel):
    key: Opt[str] = None
    name: Opt[str] = None
    signal: Opt[int] = None
    age: Opt[int] = None


class SearchRequest(WireModel):
    radio: Opt[str] = None
    cell: Items[LegacyCell] = Field(default_factory=list)
    wifi: Items[LegacyWifi] = Field(default_factory=list)
    blue: Items[LegacyBlue] = Field(default_factory=list)
    fallbacks: Opt[Fallbacks] = None


class SearchResponse(BaseModel):
    status: Literal["ok", "not_found"]
    lat: float | None = None
    lon: float | None = None
    accuracy: float | None = None
    fallback: Literal["lacf", "ipf"] | None = None


# --- submission -----------------------------------------------------------------------------


class Position(WireModel):
    latitude: Opt[float] = None
    longitude: Opt[float] = None
    accuracy: Opt[float] = None
    altitude: Opt[float] = None
    altitudeAccuracy: Opt[float] = None
    age: Opt[int] = None
    heading: Opt[float] = None
    pressure: Opt[float] = None
    speed: Opt[float] = None
    source: Opt[str] = Field(default=None, description="gps (default), manual or fused")


class Connection(WireModel):
    ip: Opt[str] = Field(default=None, description="accepted and never stored")


class GeosubmitItem(WireModel):
    """One report of POST /v2/geosubmit."""

    timestamp: Opt[int] = Field(default=None, description="ms since the epoch")
    position: Opt[Position] = None
    connection: Opt[Connection] = None
    cellTowers: Items[CellTower] = Field(default_factory=list)
    wifiAccessPoints: Items[WifiAccessPoint] = Field(default_factory=list)
    bluetoothBeacons: Items[BluetoothBeacon] = Field(default_factory=list)


class GeosubmitRequest(WireModel):
    items: Items[GeosubmitItem] = Field(default_factory=list)


class GeosubmitV1Item(WireModel):
    """One report of POST /v1/geosubmit: the geolocate body plus flat position fields."""

    latitude: Opt[float] = None
    longitude: Opt[float] = None
    timestamp: Opt[int] = None
    accuracy: Opt[float] = None
    altitude: Opt[float] = None
    altitudeAccuracy: Opt[float] = None
    heading: Opt[float] = None
    speed: Opt[float] = None
    pressure: Opt[float] = None
    source: Opt[str] = None
    radioType: Opt[str] = None
    cellTowers: Items[CellTower] = Field(default_factory=list)
    wifiAccessPoints: Items[WifiAccessPoint] = Field(default_factory=list)
    bluetoothBeacons: Items[BluetoothBeacon] = Field(default_factory=list)


class GeosubmitV1Request(WireModel):
    items: Items[GeosubmitV1Item] = Field(default_factory=list)


class LegacySubmitItem(WireModel):
    """One report of legacy POST /v1/submit (`time` is an ISO-8601 string)."""

    lat: Opt[float] = None
    lon: Opt[float] = None
    time: Opt[str] = None
    accuracy: Opt[float] = None
    altitude: Opt[float] = None
    altitude_accuracy: Opt[float] = None
    heading: Opt[float] = None
    speed: Opt[float] = None
    radio: Opt[str] = None
    cell: Items[LegacyCell] = Field(default_factory=list)
    wifi: Items[LegacyWifi] = Field(default_factory=list)
    blue: Items[LegacyBlue] = Field(default_factory=list)


class LegacySubmitRequest(WireModel):
    items: Items[LegacySubmitItem] = Field(default_factory=list)


class EmptyResponse(BaseModel):
    """`{}`: the submission was accepted (durably queued)."""


# --- monitoring -----------------------------------------------------------------------------


class BackendStatus(BaseModel):
    up: bool | None
    time: int = Field(description="check duration in ms, -1 when it failed")


class HeartbeatResponse(BaseModel):
    database: BackendStatus
    redis: BackendStatus


class LbHeartbeatResponse(BaseModel):
    status: Literal["OK"]


class VersionResponse(BaseModel):
    source: str
    version: str
    commit: str
    build: str


# --- errors ---------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    domain: str
    reason: str
    message: str


class ErrorInfo(BaseModel):
    errors: list[ErrorDetail]
    code: int
    message: str


class ErrorResponse(BaseModel):
    error: ErrorInfo


# --- offline packs --------------------------------------------------------------------------


class OfflinePackResponse(BaseModel):
    """Where to download the newest offline pack of a region (an entry of `downloads.json`)."""

    region: str = Field(description='ISO 3166 alpha-2 code ("DE") or "mcc-262"')
    path: str = Field(description="object key in the assets bucket; download from the site at /<path>")
    format: str = Field(description='"sqlite.gz": gzip-compressed SQLite (schema in docs/privacy.md)')
    size: int = Field(description="bytes of the download")
    rows: int | None = Field(default=None, description="stations, cells and areas in the pack")
    sha256: str
    created: str = Field(description="when the pack was built (UTC, ISO 8601)")
