"""The locate engine as it was before accuracy v2 (`openloc.locate` at the previous release), kept
frozen here so the accuracy benchmark can show before and after from one run.

Before: Wi-Fi/Bluetooth weights 10^(s/30) × log2(samples) × age, the largest complete-linkage
cluster's weighted mean, radius = the farthest used network + the median reach (≥ 200 m Wi-Fi,
50 m Bluetooth), clamped to 10–500 m / 10–100 m; cells weighted 1/dBm², radius = the nearest
cell's distance + radius, clamped to 1–50 km; cell areas at 50–500 km; Bluetooth first, Wi-Fi
next, each losing to the cell when outside its circle. It runs on the station positions of the
old aggregation (`UpdatePolicy(fit_positions=False)`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from openloc.geo.distance import haversine_m
from openloc.locate.lookup import RecordLookup
from openloc.locate.mac_source import (
    MIN_NETWORKS,
    MacSourceConfig,
    agreeing,
    known_networks,
)
from openloc.locate.query import (
    AreaSignal,
    CellSignal,
    Estimate,
    KnownStation,
    LocateQuery,
    MacSignal,
    Source,
)
from openloc.store.stations import MemoryStationStore

from bench.accuracy.engines import Answer, parsed
from bench.world import Query

# The previous settings: weight 10^(s/30), unknown signal −100 dBm, typical reach 200 m / 50 m, and
# the radius clamped to 10–500 m / 10–100 m.
WIFI = MacSourceConfig(Source.WIFI, "wifi#", 500.0, 20, -100, 200.0, 30.0, -100)
BLUE = MacSourceConfig(Source.BLUE, "blue#", 100.0, 10, -100, 50.0, 30.0, -100)
BOUNDS = {Source.WIFI: (10.0, 500.0), Source.BLUE: (10.0, 100.0)}


def sample_weight(samples: int) -> float:
    """Well-observed stations are trusted more, saturating at 1 024 samples."""
    return min(max(math.log2(max(samples, 1)), 0.5), 10.0)


def accuracy_radius(lat: float, lon: float, used: Sequence[KnownStation], config: MacSourceConfig) -> float:
    """The 95 % radius: the farthest used station plus how far a typical used station is heard
    (the median of the stations' radii, each at least `typical_range_m`).

    Measured on the simulated city of bench/accuracy, the previous rule (spread + half the median
    station radius) held only 87 % (Wi-Fi) and 64 % (Bluetooth) of true positions; this one holds
    93-97 % there. Clients near few, rarely observed networks are the ones the old rule failed.
    """
    spread = max(haversine_m(lat, lon, s.lat, s.lon) for s in used)
    reach = sorted(max(s.radius, config.typical_range_m) for s in used)[len(used) // 2]
    return spread + reach


def locate_macs(
    seen: Sequence[MacSignal], known: Mapping[str, KnownStation], config: MacSourceConfig
) -> Estimate | None:
    _, stations, by_signal = known_networks(seen, known, config)
    if len(stations) < MIN_NETWORKS:
        return None
    weights = {s.key: by_signal[s.key] * sample_weight(s.samples) for s in stations}
    clusters = agreeing(stations, config.max_cluster_distance_m)
    if not clusters:
        return None
    best = max(clusters, key=lambda c: (len(c), sum(weights[s.key] for s in c)))
    best = sorted(best, key=lambda s: -weights[s.key])[: config.max_networks]
    total = sum(weights[s.key] for s in best)
    lat = sum(s.lat * weights[s.key] for s in best) / total
    lon = sum(s.lon * weights[s.key] for s in best) / total
    low, high = BOUNDS[config.source]
    accuracy = min(max(accuracy_radius(lat, lon, best, config), low), high)
    return Estimate(
        lat=lat,
        lon=lon,
        accuracy=accuracy,
        source=config.source,
        score=float(len(best)),
        used=tuple(s.key for s in best),
    )


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


def known_by_area(
    seen: Sequence[CellSignal], known: Mapping[str, KnownStation]
) -> dict[str, list[tuple[KnownStation, CellSignal]]]:
    """The known cells heard, grouped by location area (the first known MNC spelling of each)."""
    by_area: dict[str, list[tuple[KnownStation, CellSignal]]] = defaultdict(list)
    for signal in seen:
        for cell in signal.ids:
            station = known.get(cell.key)
            if station is not None:
                by_area[cell.area_key].append((station, signal))
                break
    return by_area


def locate_cells(seen: Sequence[CellSignal], known: Mapping[str, KnownStation]) -> Estimate | None:
    """Group the known cells by location area; the area with most known cells answers."""
    by_area = known_by_area(seen, known)
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


def search(
    query: LocateQuery, stations: Mapping[str, KnownStation], areas: Mapping[str, KnownStation]
) -> Estimate | None:
    cell = locate_cells(query.cells, stations)
    for estimate in (locate_macs(query.blues, stations, BLUE), locate_macs(query.wifis, stations, WIFI)):
        if estimate is None:
            continue
        if cell is None or haversine_m(estimate.lat, estimate.lon, cell.lat, cell.lon) <= cell.accuracy:
            return estimate
    if cell is not None:
        return cell
    if query.lacf:
        return locate_cell_areas(query.cells, areas, query.area_cells)
    return None


class Before:
    """The previous engine on the previous aggregation's stations (no GeoIP: station answers only)."""

    def __init__(self, stations: MemoryStationStore) -> None:
        self.lookup = RecordLookup(stations)

    def __call__(self, query: Query) -> Answer | None:
        q, known = self.lookup.stations(parsed(query))
        areas = self.lookup.areas(q) if q.cells or q.area_cells else {}
        found = search(q, known, areas)
        return None if found is None else Answer(found.lat, found.lon, found.accuracy, found.source.value)
