"""Cell source: exact cells first, then (as the `lacf` fallback) their location areas.

Exact cells answer together, whatever their location area: the known cells heard are clustered
by distance (complete linkage at `CLUSTER_M`, so a misplaced cell far from the others is left
out), and the cluster with the most cells answers with the signal-weighted mean of its cells
(10 dB stronger ≈ ×2 weight: a stronger cell is nearer). Ichnaea let only the location area with
the most known cells answer; near an area's border, where a phone hears cells of two areas, that
threw half of them away (training seed of the accuracy profiles: cell-only median 1.03× the
centroid baseline in the suburb and along the highway with one area, 0.86× and 0.94× with all;
unchanged in the cities). Its radius is predicted from the cells' spread and radii
(`locate.radius`). A cell-area answer is the
smallest known area's centre, with a radius from the area's real extent (`locate.radius`), not a
fixed 50 km.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from openloc.locate.clustering import complete_linkage
from openloc.locate.query import AreaSignal, CellSignal, Estimate, KnownStation, Source
from openloc.locate.radius import AreaFeatures, CellFeatures, area_radius, cell_radius

# Weakest plausible signal, used when a cell was reported without one.
DEFAULT_SIGNAL_DBM = -120
SIGNAL_SCALE_DB = 20.0  # weight = 10^(signal / SIGNAL_SCALE_DB)
# Cells heard at one place that lie farther apart than this cannot both be where they are placed:
# no cell is heard beyond ~35 km (GSM's timing-advance limit), so two that reach one phone lie
# within twice that.
CLUSTER_M = 70_000.0
_EAST = 111_320.0


def _weight(signal: CellSignal) -> float:
    dbm = signal.signal if signal.signal is not None and signal.signal < 0 else DEFAULT_SIGNAL_DBM
    return float(10 ** (dbm / SIGNAL_SCALE_DB))


def _weighted(found: Sequence[tuple[KnownStation, CellSignal]]) -> Estimate:
    weights = [_weight(sig) for _, sig in found]
    total = sum(weights)
    lat = sum(st.lat * w for (st, _), w in zip(found, weights, strict=True)) / total
    lon = sum(st.lon * w for (st, _), w in zip(found, weights, strict=True)) / total
    cos0 = math.cos(math.radians(lat))
    spread2 = reach = 0.0
    for (st, _), w in zip(found, weights, strict=True):
        share = w / total
        spread2 += share * (((st.lat - lat) * _EAST) ** 2 + ((st.lon - lon) * _EAST * cos0) ** 2)
        reach += share * st.radius
    accuracy = cell_radius(CellFeatures(len(found), math.sqrt(spread2), reach))
    return Estimate(lat, lon, accuracy, Source.CELL, float(len(found)), tuple(st.key for st, _ in found))


def known_cells(
    seen: Sequence[CellSignal], known: Mapping[str, KnownStation]
) -> list[tuple[KnownStation, CellSignal]]:
    """The known cells heard (the first known MNC spelling of each), with their signal."""
    found = []
    for signal in seen:
        station = next((known[cell.key] for cell in signal.ids if cell.key in known), None)
        if station is not None:
            found.append((station, signal))
    return found


def locate_cells(seen: Sequence[CellSignal], known: Mapping[str, KnownStation]) -> Estimate | None:
    """The known cells heard, clustered by distance; the cluster with most cells (then most
    signal weight) answers."""
    found = known_cells(seen, known)
    if not found:
        return None
    signals = {station.key: signal for station, signal in found}
    clusters = complete_linkage([station for station, _ in found], CLUSTER_M)
    best = max(clusters, key=lambda c: (len(c), sum(_weight(signals[s.key]) for s in c)))
    return _weighted([(station, signals[station.key]) for station in best])


def locate_cell_areas(
    seen: Sequence[CellSignal], areas: Mapping[str, KnownStation], area_only: Sequence[AreaSignal] = ()
) -> Estimate | None:
    """The smallest known area among the client's cells, including those sent without a cell id
    (`area_only`): the `lacf` fallback. A `KnownStation` of an area carries its cells' mean radius
    as `reach` and its number of cells as `samples`."""
    found = [areas[cell.area_key] for signal in seen for cell in signal.ids if cell.area_key in areas]
    found += [areas[area.key] for signal in area_only for area in signal.ids if area.key in areas]
    if not found:
        return None
    area = min(found, key=lambda a: (a.radius, a.key))
    accuracy = area_radius(AreaFeatures(area.radius, area.reach, area.samples))
    return Estimate(area.lat, area.lon, accuracy, Source.CELL_AREA, 1.0, (area.key,))
