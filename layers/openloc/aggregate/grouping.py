"""Turn reports into weighted observations grouped by station key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from openloc.aggregate.station_update import StationObservation
from openloc.aggregate.weights import (
    accuracy_weight,
    age_weight,
    cell_signal_weight,
    speed_weight,
    wifi_signal_weight,
)
from openloc.model.identifiers import clean_name, station_digest
from openloc.model.keys import CellId, blue_key, wifi_key
from openloc.model.kinds import StationKind
from openloc.model.report import Report


def _digest(kind: StationKind, mac: str, name: str | None) -> str | None:
    cleaned = clean_name(name)
    return station_digest(kind, mac, cleaned) if cleaned is not None else None


def group_by_station(reports: Iterable[Report]) -> dict[str, list[StationObservation]]:
    """Weighted observations per station key; zero weights are dropped."""
    grouped: dict[str, list[StationObservation]] = defaultdict(list)

    def add(key: str, weight: float, psc: int | None = None, name_hash: str | None = None) -> None:
        if weight > 0:
            grouped[key].append(StationObservation(report.latitude, report.longitude, weight, psc, name_hash))

    for report in reports:
        moving = speed_weight(report.speed)
        for wifi in report.wifi:
            add(
                wifi_key(wifi.mac),
                accuracy_weight(report.accuracy, "wifi")
                * age_weight(wifi.age)
                * moving
                * wifi_signal_weight(wifi.signal),
                name_hash=_digest(StationKind.WIFI, wifi.mac, wifi.ssid),
            )
        for blue in report.bluetooth:
            add(
                blue_key(blue.mac),
                accuracy_weight(report.accuracy, "blue") * age_weight(blue.age) * moving,
                name_hash=_digest(StationKind.BLUE, blue.mac, blue.name),
            )
        for cell in report.cells:
            key = CellId(cell.radio, cell.mcc, cell.mnc, cell.lac, cell.cid).key
            add(
                key,
                accuracy_weight(report.accuracy, "cell")
                * age_weight(cell.age)
                * moving
                * cell_signal_weight(cell.radio, cell.signal),
                cell.psc,
            )
    return dict(grouped)
