"""Wire request → `LocateQuery`: normalise identities, drop unusable entries, apply privacy rules."""

from __future__ import annotations

from openloc.api.errors import ApiError
from openloc.api.schemas import (
    BluetoothBeacon,
    CellTower,
    Fallbacks,
    LocateRequest,
    SearchRequest,
    WifiAccessPoint,
)
from openloc.locate.query import AreaSignal, CellSignal, LocateQuery, MacSignal
from openloc.model.identifiers import HashFormatError, parse_station_id
from openloc.model.keys import area_ids, cell_ids, cell_radio, is_nomap_ssid, is_private_mac, normalize_mac

MAX_ABS_AGE_MS = 3_600_000
# At most this many networks of each kind are looked up (the strongest first), so one locate
# stays one BatchGetItem round (≤ 100 keys) whatever the body holds; a cell may carry two ids
# (numeric and string MNC). Real scans rarely exceed 40 Wi-Fi networks.
MAX_WIFIS = 50
MAX_BLUES = 20
MAX_CELLS = 15
MAX_LOCATE_STATIONS = MAX_WIFIS + MAX_BLUES + 2 * MAX_CELLS


def _strongest(signals: dict[str, MacSignal], limit: int) -> tuple[MacSignal, ...]:
    if len(signals) <= limit:
        return tuple(signals.values())
    ranked = sorted(signals.values(), key=lambda s: -(s.signal if s.signal is not None else -200))
    return tuple(ranked[:limit])


def _age(value: int | None) -> int | None:
    return value if value is not None and abs(value) <= MAX_ABS_AGE_MS else None


def _signal(value: int | None, low: int, high: int) -> int | None:
    return value if value is not None and low <= value <= high else None


def _keep_stronger(best: dict[str, MacSignal], signal: MacSignal) -> None:
    previous = best.get(signal.mac)
    if previous is None or (signal.signal or -200) > (previous.signal or -200):
        best[signal.mac] = signal


def _hashed(
    entries: list[WifiAccessPoint] | list[BluetoothBeacon], low: int, high: int
) -> tuple[MacSignal, ...]:
    """Entries sent by published identifier (and without a MAC): digest + signal.

    A malformed identifier or an unknown scheme version is a 400 parseError: silently dropping it
    would answer a privacy-minded client from fewer networks than it sent, without telling it why.
    """
    best: dict[str, MacSignal] = {}
    for entry in entries:
        if entry.macAddress or entry.hashedId is None:
            continue
        try:
            hashed = parse_station_id(entry.hashedId)
        except HashFormatError as error:
            raise ApiError(400, "global", "parseError", f"Parse Error: {error}") from error
        _keep_stronger(
            best, MacSignal(hashed.digest, _signal(entry.signalStrength, low, high), _age(entry.age))
        )
    return tuple(best.values())


def _wifis(entries: list[WifiAccessPoint]) -> tuple[MacSignal, ...]:
    best: dict[str, MacSignal] = {}
    for entry in entries:
        mac = normalize_mac(entry.macAddress)
        if mac is None or is_private_mac(mac) or is_nomap_ssid(entry.ssid):
            continue
        signal = MacSignal(mac, _signal(entry.signalStrength, -100, -10), _age(entry.age))
        previous = best.get(mac)
        if previous is None or (signal.signal or -200) > (previous.signal or -200):
            best[mac] = signal
    return _strongest(best, MAX_WIFIS)


def _blues(entries: list[BluetoothBeacon]) -> tuple[MacSignal, ...]:
    best: dict[str, MacSignal] = {}
    for entry in entries:
        mac = normalize_mac(entry.macAddress)
        if mac is None:
            continue
        signal = MacSignal(mac, _signal(entry.signalStrength, -127, 0), _age(entry.age))
        previous = best.get(mac)
        if previous is None or (signal.signal or -200) > (previous.signal or -200):
            best[mac] = signal
    return _strongest(best, MAX_BLUES)


def _cells(
    entries: list[CellTower], default_radio: str | None
) -> tuple[tuple[CellSignal, ...], tuple[AreaSignal, ...]]:
    """The cells to look up, and the cells known only by their area (no usable cell id: answered
    by the area fallback, as Ichnaea did); at most `MAX_CELLS` of both together."""
    cells: dict[tuple[str, ...], CellSignal] = {}
    areas: dict[tuple[str, ...], AreaSignal] = {}
    for entry in entries:
        if len(cells) + len(areas) == MAX_CELLS:
            break
        radio = cell_radio(entry.radioType, entry.radio, default_radio)
        mcc, mnc, mnc_str = entry.mobileCountryCode, entry.mobileNetworkCode, entry.mobileNetworkCodeStr
        signal = (
            entry.signalStrength if entry.signalStrength is not None and entry.signalStrength < 0 else None
        )
        ids = cell_ids(radio, mcc, mnc, mnc_str, entry.locationAreaCode, entry.cellId)
        if ids:
            cells.setdefault(tuple(c.key for c in ids), CellSignal(tuple(ids), signal, _age(entry.age)))
            continue
        area = area_ids(radio, mcc, mnc, mnc_str, entry.locationAreaCode)
        if area:  # psc-only neighbours and cells without an area cannot be looked up at all
            areas.setdefault(tuple(a.key for a in area), AreaSignal(tuple(area), signal, _age(entry.age)))
    return tuple(cells.values()), tuple(areas.values())


def _fallback_flags(fallbacks: Fallbacks | None, consider_ip: bool | None) -> tuple[bool, bool]:
    lacf = True if fallbacks is None or fallbacks.lacf is None else fallbacks.lacf
    if fallbacks is not None and fallbacks.ipf is not None:
        ipf = fallbacks.ipf
    else:
        ipf = True if consider_ip is None else consider_ip
    return lacf, ipf


def build_query(request: LocateRequest, client_ip: str | None) -> LocateQuery:
    lacf, ipf = _fallback_flags(request.fallbacks, request.considerIp)
    cells, area_cells = _cells(request.cellTowers, request.radioType)
    return LocateQuery(
        wifis=_wifis(request.wifiAccessPoints),
        blues=_blues(request.bluetoothBeacons),
        cells=cells,
        area_cells=area_cells,
        lacf=lacf,
        ipf=ipf,
        client_ip=client_ip,
        hashed_wifis=_hashed(request.wifiAccessPoints, -100, -10),
        hashed_blues=_hashed(request.bluetoothBeacons, -127, 0),
    )


def from_search(request: SearchRequest) -> LocateRequest:
    """Legacy /v1/search body → the geolocate schema (key→macAddress, signal→signalStrength…)."""
    return LocateRequest(
        radioType=request.radio,
        cellTowers=[
            CellTower(
                radio=c.radio,
                mobileCountryCode=c.mcc,
                mobileNetworkCode=c.mnc,
                locationAreaCode=c.lac,
                cellId=c.cid,
                psc=c.psc,
                signalStrength=c.signal,
                asu=c.asu,
                timingAdvance=c.ta,
                age=c.age,
            )
            for c in request.cell
        ],
        wifiAccessPoints=[
            WifiAccessPoint(
                macAddress=w.key,
                channel=w.channel,
                frequency=w.frequency,
                signalStrength=w.signal,
                age=w.age,
                ssid=w.ssid,
            )
            for w in request.wifi
        ],
        bluetoothBeacons=[
            BluetoothBeacon(macAddress=b.key, name=b.name, signalStrength=b.signal, age=b.age)
            for b in request.blue
        ],
        fallbacks=request.fallbacks,
    )
