"""Complete-linkage clustering of stations by distance.

Two stations end in the same cluster only if *every* pair in the cluster is within
`max_distance_m`, so a single moved access point far from the others forms its own cluster
instead of dragging the answer (Ichnaea's rule, scipy's "complete" linkage cut at the distance).

Fast path: when the stations' bounding box is small enough that no pair can be farther apart
than the limit, they form one cluster and no distance matrix is built (the common case). Else
numpy builds the pairwise distance matrix and merges with the Lance–Williams update; numpy is
imported only then, keeping it off the cold-start path of ordinary queries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from openloc.geo.distance import EARTH_RADIUS_M, haversine_m
from openloc.locate.query import KnownStation

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def _bbox_diagonal_m(stations: Sequence[KnownStation]) -> float:
    """An upper bound of the largest pairwise distance (the bounding box's diagonal)."""
    lats = [s.lat for s in stations]
    lons = [s.lon for s in stations]
    south, north = min(lats), max(lats)
    # the widest parallel of the box is the one nearest the equator
    widest = 0.0 if south <= 0 <= north else min(abs(south), abs(north))
    height = haversine_m(south, 0.0, north, 0.0)
    width = math.radians(max(lons) - min(lons)) * EARTH_RADIUS_M * math.cos(math.radians(widest))
    return math.hypot(height, width)


def _distance_matrix(stations: Sequence[KnownStation]) -> npt.NDArray[np.float64]:
    import numpy as np

    lat = np.radians(np.array([s.lat for s in stations]))
    lon = np.radians(np.array([s.lon for s in stations]))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    distances: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return distances


def complete_linkage(stations: Sequence[KnownStation], max_distance_m: float) -> list[list[KnownStation]]:
    """Clusters whose diameter is at most `max_distance_m`; deterministic for a given input set."""
    ordered = sorted(stations, key=lambda s: s.key)
    if len(ordered) <= 1 or _bbox_diagonal_m(ordered) <= max_distance_m:
        return [ordered] if ordered else []
    import numpy as np

    linkage = _distance_matrix(ordered)
    np.fill_diagonal(linkage, np.inf)
    members: list[list[int]] = [[i] for i in range(len(ordered))]
    alive = np.ones(len(ordered), dtype=bool)
    while True:
        flat = int(np.argmin(linkage))
        a, b = divmod(flat, len(ordered))
        if not math.isfinite(linkage[a, b]) or linkage[a, b] > max_distance_m:
            break
        a, b = min(a, b), max(a, b)
        # complete linkage: the merged cluster's distance to any other is the larger of the two
        merged = np.maximum(linkage[a], linkage[b])
        linkage[a, :] = merged
        linkage[:, a] = merged
        linkage[a, a] = np.inf
        linkage[b, :] = np.inf
        linkage[:, b] = np.inf
        members[a] += members[b]
        members[b] = []
        alive[b] = False
    return [[ordered[i] for i in sorted(group)] for group, keep in zip(members, alive, strict=True) if keep]
