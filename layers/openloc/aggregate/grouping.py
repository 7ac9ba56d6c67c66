"""Turn reports into weighted observations grouped by station key."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from openloc.aggregate.station_update import OptOutSighting, StationObservation
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


# A fix farther than this from both of its neighbours in time (which agree with each other) is a GPS
# glitch: the phone jumped away and back within seconds (docs/accuracy.md).
GLITCH_M = 75.0
GLITCH_WINDOW_MS = 30_000
_M_PER_DEG = 111_320.0


def _apart_m(a: Report, b: Report) -> float:
    """Distance between two fixes (equirectangular: exact to centimetres at these ranges)."""
    east = (a.longitude - b.longitude) * _M_PER_DEG * math.cos(math.radians(a.latitude))
    return math.hypot(east, (a.latitude - b.latitude) * _M_PER_DEG)


def gps_glitches(reports: Sequence[Report]) -> set[int]:
    """Indexes of the reports whose position jumps away from both of their neighbours in time (of
    the same submitter, within `GLITCH_WINDOW_MS`) and back: farther than `GLITCH_M` — and twice
    the neighbours' own distance — from each. A stumbler's scans a few seconds apart cannot be."""
    by_source: dict[str | None, list[int]] = defaultdict(list)
    for index, report in enumerate(reports):
        by_source[report.submitter].append(index)
    glitches: set[int] = set()
    for indexes in by_source.values():
        indexes.sort(key=lambda i: reports[i].timestamp)
        for a, b, c in zip(indexes, indexes[1:], indexes[2:], strict=False):
            before, fix, after = reports[a], reports[b], reports[c]
            if after.timestamp - before.timestamp > GLITCH_WINDOW_MS:
                continue
            limit = max(GLITCH_M, 2.0 * _apart_m(before, after))
            if _apart_m(before, fix) > limit and _apart_m(fix, after) > limit:
                glitches.add(b)
    return glitches


def group_by_station(
    reports: Sequence[Report], default_source: str | None = None, drop_glitches: bool = True
) -> dict[str, list[StationObservation]]:
    """Weighted observations per station key; zero weights are dropped, and so are the reports of
    GPS glitches (`gps_glitches`, unless `drop_glitches` is False). Each observation carries its
    report's submitter (`default_source` for reports without one) and the report's index."""
    grouped: dict[str, list[StationObservation]] = defaultdict(list)
    glitches = gps_glitches(reports) if drop_glitches else set()
    for index, report in enumerate(reports):
        if index in glitches:
            continue
        source = report.submitter or default_source
        moving = speed_weight(report.speed)
        weighted: list[tuple[str, float, int | None, str | None, int | None]] = []
        for wifi in report.wifi:
            weight = accuracy_weight(report.accuracy, "wifi") * age_weight(wifi.age) * moving
            name = _digest(StationKind.WIFI, wifi.mac, wifi.ssid)
            weighted.append(
                (wifi_key(wifi.mac), weight * wifi_signal_weight(wifi.signal), None, name, wifi.signal)
            )
        for blue in report.bluetooth:
            weight = accuracy_weight(report.accuracy, "blue") * age_weight(blue.age) * moving
            name = _digest(StationKind.BLUE, blue.mac, blue.name)
            weighted.append((blue_key(blue.mac), weight, None, name, blue.signal))
        for cell in report.cells:
            key = CellId(cell.radio, cell.mcc, cell.mnc, cell.lac, cell.cid).key
            weight = accuracy_weight(report.accuracy, "cell") * age_weight(cell.age) * moving
            weighted.append((key, weight * cell_signal_weight(cell.radio, cell.signal), cell.psc, None, None))
        for key, weight, psc, name_hash, signal in weighted:
            if weight > 0:
                grouped[key].append(
                    StationObservation(
                        report.latitude, report.longitude, weight, psc, name_hash, source, index, signal
                    )
                )
    return dict(grouped)


def group_opt_outs(
    reports: Iterable[Report], default_source: str | None = None
) -> dict[str, list[OptOutSighting]]:
    """Where and by whom each station was seen with an opt-out name."""
    grouped: dict[str, list[OptOutSighting]] = defaultdict(list)
    for report in reports:
        source = report.submitter or default_source
        for key in report.opted_out:
            grouped[key].append(OptOutSighting(report.latitude, report.longitude, source))
    return dict(grouped)
