"""Cell source: exact cells first, then (as the `lacf` fallback) their location areas."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from openloc.geo.distance import haversine_m
from openloc.locate.query import AreaSignal, CellSignal, Estimate, KnownStation, Source

CELL_ACCURACY_M = (1_000.0, 50_000.0)
AREA_ACCURACY_M = (50_000.0, 500_000.0)
# Weakest plausible signal, used when a cell was reported without one.
DEFAULT_SIGNAL_DBM = -120


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def _weighted(
    found: Sequence[tuple[KnownStation, CellSignal | AreaSignal]], bounds: tuple[float, float], source: Source
) -> Estimate:
    weights = [
        1.0 / float((sig.signal if sig.signal is not None else DEFAULT_SIGNAL_DBM) ** 2) for _, sig in found
    ]
    total = sum(weights)
    lat = sum(st.lat * w for (st, _), w in zip(found, weights, strict=True)) / total
    lon = sum(st.lon * w for (st, _), w in zip(found, weights, strict=True)) / total
    # The client is within every heard cell's radius of that cell, so the answer is within
    # distance + radius of the *nearest-bounding* cell (the smallest such sum, not the largest).
    reach = min(haversine_m(lat, lon, st.lat, st.lon) + st.radius for st, _ in found)
    return Estimate(
        lat, lon, _clamp(reach, bounds), source, float(len(found)), tuple(st.key for st, _ in found)
    )


def locate_cells(seen: Sequence[CellSignal], known: Mapping[str, KnownStation]) -> Estimate | None:
    """Group the known cells by location area; the area with most known cells answers."""
    by_area: dict[str, list[tuple[KnownStation, CellSignal | AreaSignal]]] = defaultdict(list)
    for signal in seen:
        for cell in signal.ids:
            station = known.get(cell.key)
            if station is not None:
                by_area[cell.area_key].append((station, signal))
                break
    if not by_area:
        return None
    best = max(by_area.values(), key=len)
    return _weighted(best, CELL_ACCURACY_M, Source.CELL)


def locate_cell_areas(
    seen: Sequence[CellSignal], areas: Mapping[str, KnownStation], area_only: Sequence[AreaSignal] = ()
) -> Estimate | None:
    """The smallest known area among the client's cells, including those sent without a cell id
    (`area_only`): the `lacf` fallback."""
    found: list[tuple[KnownStation, CellSignal | AreaSignal]] = [
        (areas[cell.area_key], signal) for signal in seen for cell in signal.ids if cell.area_key in areas
    ]
    found += [(areas[area.key], signal) for signal in area_only for area in signal.ids if area.key in areas]
    if not found:
        return None
    area, signal = min(found, key=lambda pair: pair[0].radius)
    return _weighted([(area, signal)], AREA_ACCURACY_M, Source.CELL_AREA)
