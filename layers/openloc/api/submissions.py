"""Submission bodies (v2 geosubmit, v1 geosubmit, legacy submit) → validated `Report`s.

Bad entries are dropped one by one and bad reports one by one; the batch is never rejected for
its content (one stumbler app deletes a batch for good on any 4xx). What was dropped is counted.

The cost of a batch is bounded before its items are validated (`read_items`): more than
`SUBMIT_MAX_ITEMS` reports or `SUBMIT_MAX_ENTRIES` entries is a 413, entries of one report past
twice what a report keeps are dropped unread, and items are validated one at a time as the
converter consumes them, each parsed item released once validated, so a batch never exists twice
in memory (parsed JSON and models). A kept observation costs ~1 KB of memory until it is queued:
the entry cap is what bounds a request's memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from openloc.api.errors import payload_too_large
from openloc.api.schemas import (
    BluetoothBeacon,
    CellTower,
    GeosubmitItem,
    GeosubmitRequest,
    GeosubmitV1Item,
    GeosubmitV1Request,
    LegacyCell,
    LegacySubmitItem,
    LegacySubmitRequest,
    LegacyWifi,
    WifiAccessPoint,
    WireModel,
)
from openloc.model.keys import (
    MAX_PSC,
    blue_key,
    cell_ids,
    cell_radio,
    is_nomap_ssid,
    normalize_mac,
    storable_mac,
    wifi_key,
)
from openloc.model.kinds import Radio, StationKind
from openloc.model.report import BlueObservation, CellObservation, Report, WifiObservation

MAX_ABS_AGE_MS = 3_600_000
# Entries kept per report (the rest are dropped and counted): generous for real scans (MozStumbler
# caps at 200 Wi-Fi and 50 cells) while bounding one report's size well under an SQS message.
MAX_ENTRIES = {"wifi": 500, "bluetooth": 200, "cell": 100}
# Entries of one report that are read at all: twice what is kept, so that invalid entries among the
# first ones still leave room. Entries past these are dropped unread (and counted like the others):
# they bound the validation work of one report.
MAX_ENTRIES_READ = {kind: 2 * kept for kind, kept in MAX_ENTRIES.items()}
_E = TypeVar("_E", WifiObservation, BlueObservation, CellObservation)
_I = TypeVar("_I", bound=WireModel)
# Each request model's item model and the wire names of its entry lists (→ the kinds above).
_V2_LISTS = {"wifiAccessPoints": "wifi", "bluetoothBeacons": "bluetooth", "cellTowers": "cell"}
WIRE_ITEMS: dict[type[WireModel], tuple[type[WireModel], dict[str, str]]] = {
    GeosubmitRequest: (GeosubmitItem, _V2_LISTS),
    GeosubmitV1Request: (GeosubmitV1Item, _V2_LISTS),
    LegacySubmitRequest: (LegacySubmitItem, {"wifi": "wifi", "blue": "bluetooth", "cell": "cell"}),
}
# Per-radio valid signal (dBm) and ASU ranges, and the ASU → dBm offset (Ichnaea's constants).
CELL_SIGNAL_DBM = {
    Radio.GSM: (-113, -51),
    Radio.WCDMA: (-121, -25),
    Radio.LTE: (-140, -43),
    Radio.NR: (-156, -31),
}
CELL_ASU = {Radio.GSM: (0, 31), Radio.WCDMA: (-5, 91), Radio.LTE: (0, 97), Radio.NR: (0, 127)}


# 2001-01-01T00:00:00Z in ms. An earlier report time is a device clock that was never set (or a
# time sent in seconds): Ichnaea's bound between a plausible time and an unknown one.
EARLIEST_PLAUSIBLE_MS = 978_307_200_000


@dataclass
class SubmitLimits:
    """When a report may have been made, relative to `now` (the time it was received).

    A time is *unknown* when it is missing, unreadable, before `earliest_ms` or more than
    `max_future_ms` after `now`: the device's clock is wrong, not its data, so the report is kept
    with the time it was received (a time that is not sent at all is treated the same way). A
    plausible time more than `max_past_ms` before `now` is *old*: the report is dropped (the
    retention rule, docs/api.md#submit)."""

    now: datetime
    max_future_ms: int = 10 * 60 * 1000
    max_past_ms: int = 90 * 24 * 3600 * 1000
    earliest_ms: int = EARLIEST_PLAUSIBLE_MS

    def report_time(self, value: int | None) -> int | None:
        """The time a report is kept under (ms), or None when it is too old to keep."""
        now_ms = int(self.now.timestamp() * 1000)
        if value is None or value < self.earliest_ms or value > now_ms + self.max_future_ms:
            return now_ms
        return value if value >= now_ms - self.max_past_ms else None


@dataclass
class Outcome:
    reports: list[Report] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)


def _in(value: float | None, low: float, high: float) -> float | None:
    return value if value is not None and low <= value <= high else None


def _int_in(value: int | None, low: int, high: int) -> int | None:
    return value if value is not None and low <= value <= high else None


def _age(value: int | None) -> int | None:
    return _int_in(value, -MAX_ABS_AGE_MS, MAX_ABS_AGE_MS)


def _cell_signal(radio: Radio, signal: int | None, asu: int | None) -> int | None:
    low, high = CELL_SIGNAL_DBM[radio]
    if signal is not None and low <= signal <= high:
        return signal
    asu_low, asu_high = CELL_ASU[radio]
    if asu is None or not asu_low <= asu <= asu_high:
        return None
    dbm = {Radio.GSM: 2 * asu - 113, Radio.WCDMA: asu - 116, Radio.LTE: asu - 140, Radio.NR: asu - 156}[radio]
    return dbm if low <= dbm <= high else None


def cell_observation(
    radio: Radio | None,
    mcc: int | None,
    mnc: int | None,
    mnc_str: str | None,
    lac: int | None,
    cid: int | None,
    psc: int | None = None,
    signal: int | None = None,
    asu: int | None = None,
    age: int | None = None,
    timing_advance: int | None = None,
    serving: int | None = None,
) -> CellObservation | None:
    ids = cell_ids(radio, mcc, mnc, mnc_str, lac, cid)
    if not ids:
        return None
    cell = ids[0]
    return CellObservation(
        radio=cell.radio,
        mcc=cell.mcc,
        mnc=cell.mnc,
        lac=cell.lac,
        cid=cell.cid,
        psc=_int_in(psc, 0, MAX_PSC[cell.radio]),
        signal=_cell_signal(cell.radio, signal, asu),
        age=_age(age),
        timing_advance=None if cell.radio is Radio.WCDMA else _int_in(timing_advance, 0, 63),
        serving=None if serving is None else bool(serving),
    )


def _from_tower(tower: CellTower, item_radio: str | None) -> CellObservation | None:
    return cell_observation(
        cell_radio(tower.radioType, tower.radio, item_radio),
        tower.mobileCountryCode
        if tower.mobileCountryCode is not None
        else _digits(tower.mobileCountryCodeStr),
        tower.mobileNetworkCode,
        tower.mobileNetworkCodeStr,
        tower.locationAreaCode,
        tower.cellId,
        tower.primaryScramblingCode if tower.primaryScramblingCode is not None else tower.psc,
        tower.signalStrength,
        tower.asu,
        tower.age,
        tower.timingAdvance,
        tower.serving,
    )


def _from_legacy_cell(cell: LegacyCell, item_radio: str | None) -> CellObservation | None:
    return cell_observation(
        cell_radio(cell.radio, item_radio), cell.mcc, cell.mnc, None, cell.lac, cell.cid, cell.psc,
        cell.signal, cell.asu, cell.age, cell.ta,
    )  # fmt: skip


def _digits(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def wifi_observation(
    mac_address: str | None, signal: int | None, age: int | None, channel: int | None, ssid: str | None
) -> WifiObservation | None:
    mac = normalize_mac(mac_address)
    if mac is None or not storable_mac(StationKind.WIFI, mac) or is_nomap_ssid(ssid):
        return None
    return WifiObservation(
        mac=mac,
        signal=_int_in(signal, -100, -10),
        age=_age(age),
        channel=_int_in(channel, 1, 199),
        ssid=ssid.strip() if ssid and ssid.strip() else None,
    )


def _from_wifi(entry: WifiAccessPoint) -> WifiObservation | None:
    return wifi_observation(entry.macAddress, entry.signalStrength, entry.age, entry.channel, entry.ssid)


def _from_legacy_wifi(entry: LegacyWifi) -> WifiObservation | None:
    return wifi_observation(entry.key, entry.signal, entry.age, entry.channel, entry.ssid)


def blue_observation(
    mac_address: str | None, signal: int | None, age: int | None, name: str | None
) -> BlueObservation | None:
    mac = normalize_mac(mac_address)
    if mac is None or not storable_mac(StationKind.BLUE, mac) or is_nomap_ssid(name):
        return None
    return BlueObservation(mac=mac, signal=_int_in(signal, -127, 0), age=_age(age), name=name or None)


def opted_out_keys(
    wifis: list[tuple[str | None, str | None]], blues: list[tuple[str | None, str | None]]
) -> list[str]:
    """Station keys of (MAC, name) pairs whose name opts out (`_nomap`/`_optout` anywhere).

    Only the key travels on: the aggregator withdraws such a station (docs/privacy.md)."""
    keys = [
        wifi_key(mac)
        for mac in (normalize_mac(m) for m, ssid in wifis if is_nomap_ssid(ssid))
        if mac is not None and storable_mac(StationKind.WIFI, mac)
    ]
    keys += [blue_key(mac) for mac in (normalize_mac(m) for m, name in blues if is_nomap_ssid(name)) if mac]
    return list(dict.fromkeys(keys))


def _from_blue(entry: BluetoothBeacon) -> BlueObservation | None:
    return blue_observation(entry.macAddress, entry.signalStrength, entry.age, entry.name)


class ReportBuilder:
    """Collects validated reports and counts every dropped report and entry by reason."""

    def __init__(self, limits: SubmitLimits, api_key: str | None, submitter: str | None = None) -> None:
        self.limits = limits
        self.api_key = api_key
        self.submitter = submitter
        self.outcome = Outcome()

    def _keep(self, entries: list[_E | None], kind: str) -> tuple[_E, ...]:
        kept = tuple(e for e in entries if e is not None)[: MAX_ENTRIES[kind]]
        if len(kept) < len(entries):
            self.outcome.dropped[f"{kind}_entry"] += len(entries) - len(kept)
        return kept

    def add(
        self,
        *,
        timestamp: int | None,
        lat: float | None,
        lon: float | None,
        accuracy: float | None,
        altitude: float | None,
        heading: float | None,
        speed: float | None,
        source: str | None,
        wifi: list[WifiObservation | None],
        bluetooth: list[BlueObservation | None],
        cells: list[CellObservation | None],
        opted_out: list[str] | None = None,
    ) -> None:
        time = self.limits.report_time(timestamp)
        if time is None:
            self.outcome.dropped["report_timestamp"] += 1
            return
        if (
            lat is None
            or lon is None
            or not (-90 <= lat <= 90 and -180 <= lon <= 180)
            or (lat == 0 and lon == 0)
        ):
            self.outcome.dropped["report_position"] += 1
            return
        report = Report(
            timestamp=time,
            latitude=lat,
            longitude=lon,
            accuracy=_in(accuracy, 0.0, 1_000_000.0) or None,
            altitude=_in(altitude, -10_911.0, 100_000.0),
            heading=_in(heading, 0.0, 360.0),
            speed=_in(speed, 0.0, 300.0),
            source=source if source in {"gps", "manual", "fused"} else "gps",
            wifi=self._keep(wifi, "wifi"),
            bluetooth=self._keep(bluetooth, "bluetooth"),
            cells=self._keep(cells, "cell"),
            opted_out=tuple((opted_out or [])[: MAX_ENTRIES["wifi"]]),
            api_key=self.api_key,
            submitter=self.submitter,
        )
        if not report.usable:
            self.outcome.dropped["report_networks"] += 1
            return
        self.outcome.reports.append(report)


def _iso_time_ms(value: str | None) -> int | None:
    """A legacy ISO 8601 `time` in ms; None (unknown: the report keeps its reception time) when
    missing or unreadable, as Ichnaea read it. A naive time is UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    except (ValueError, OverflowError):
        return None


def read_items(
    payload: dict[str, Any],
    wire: type[WireModel],
    dropped: Counter[str],
    *,
    max_items: int,
    max_entries: int,
) -> Iterator[Any]:
    """The items of a submission body, validated one at a time as they are consumed.

    The same items as `wire.model_validate(payload).items` (an item that does not validate is
    left out), with the cost bounded before any item is validated: more than `max_items` items,
    or more than `max_entries` Wi-Fi, Bluetooth and cell entries in all (counting at most
    `MAX_ENTRIES_READ` of each kind per item: those past it are dropped unread, counted in
    `dropped`) is a 413. Each item's parsed JSON is released from `payload` once validated."""
    raw = payload.get("items")
    if not isinstance(raw, list):
        return iter(())
    if len(raw) > max_items:
        raise payload_too_large(f"more than {max_items} reports in one submission")
    item, lists = WIRE_ITEMS[wire]
    entries = 0
    for value in raw:
        if isinstance(value, dict):
            for name, kind in lists.items():
                if isinstance(found := value.get(name), list):
                    entries += min(len(found), MAX_ENTRIES_READ[kind])
    if entries > max_entries:
        raise payload_too_large(
            f"more than {max_entries} Wi-Fi, Bluetooth and cell entries in one submission"
        )
    return _validated(raw, item, lists, dropped)


def _validated(raw: list[Any], item: type[_I], lists: dict[str, str], dropped: Counter[str]) -> Iterator[_I]:
    for index, value in enumerate(raw):
        raw[index] = None
        if isinstance(value, dict):
            for name, kind in lists.items():
                entries = value.get(name)
                if isinstance(entries, list) and len(entries) > MAX_ENTRIES_READ[kind]:
                    dropped[f"{kind}_entry"] += len(entries) - MAX_ENTRIES_READ[kind]
                    value[name] = entries[: MAX_ENTRIES_READ[kind]]
        try:
            yield item.model_validate(value)
        except ValidationError:
            continue


def from_geosubmit_v2(items: Iterable[GeosubmitItem], builder: ReportBuilder) -> Outcome:
    for item in items:
        position = item.position
        builder.add(
            timestamp=item.timestamp,
            lat=position.latitude if position else None,
            lon=position.longitude if position else None,
            accuracy=position.accuracy if position else None,
            altitude=position.altitude if position else None,
            heading=position.heading if position else None,
            speed=position.speed if position else None,
            source=position.source if position else None,
            wifi=[_from_wifi(w) for w in item.wifiAccessPoints],
            bluetooth=[_from_blue(b) for b in item.bluetoothBeacons],
            cells=[_from_tower(c, item.radioType) for c in item.cellTowers],
            opted_out=opted_out_keys(
                [(w.macAddress, w.ssid) for w in item.wifiAccessPoints],
                [(b.macAddress, b.name) for b in item.bluetoothBeacons],
            ),
        )
    return builder.outcome


def from_geosubmit_v1(items: Iterable[GeosubmitV1Item], builder: ReportBuilder) -> Outcome:
    for item in items:
        builder.add(
            timestamp=item.timestamp,
            lat=item.latitude,
            lon=item.longitude,
            accuracy=item.accuracy,
            altitude=item.altitude,
            heading=item.heading,
            speed=item.speed,
            source=item.source,
            wifi=[_from_wifi(w) for w in item.wifiAccessPoints],
            bluetooth=[_from_blue(b) for b in item.bluetoothBeacons],
            cells=[_from_tower(c, item.radioType) for c in item.cellTowers],
            opted_out=opted_out_keys(
                [(w.macAddress, w.ssid) for w in item.wifiAccessPoints],
                [(b.macAddress, b.name) for b in item.bluetoothBeacons],
            ),
        )
    return builder.outcome


def from_legacy_submit(items: Iterable[LegacySubmitItem], builder: ReportBuilder) -> Outcome:
    for item in items:
        builder.add(
            timestamp=_iso_time_ms(item.time),
            lat=item.lat,
            lon=item.lon,
            accuracy=item.accuracy,
            altitude=item.altitude,
            heading=item.heading,
            speed=item.speed,
            source=None,
            wifi=[_from_legacy_wifi(w) for w in item.wifi],
            bluetooth=[blue_observation(b.key, b.signal, b.age, b.name) for b in item.blue],
            cells=[_from_legacy_cell(c, item.radio) for c in item.cell],
            opted_out=opted_out_keys(
                [(w.key, w.ssid) for w in item.wifi], [(b.key, b.name) for b in item.blue]
            ),
        )
    return builder.outcome
