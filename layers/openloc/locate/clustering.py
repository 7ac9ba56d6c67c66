"""Complete-linkage clustering of stations by distance.

Two stations end in the same cluster only if *every* pair in the cluster is within
`max_distance_m`, so a single moved access point far from the others forms its own cluster
instead of dragging the answer (Ichnaea's rule, scipy's "complete" linkage cut at the distance).

Fast path: when the stations' bounding box is small enough that no pair can be farther apart
than the limit, they form one cluster and no distance matrix is built (the common case). Else
the pairwise distance matrix is built and clusters merge with the Lance–Williams update, in
plain Python: a query holds at most ~70 networks, and numpy (52 MB with its libraries) stays out
of the locate function's package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from openloc.geo.distance import EARTH_RADIUS_M, haversine_m
from openloc.locate.query import KnownStation


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


def _distance_matrix(stations: Sequence[KnownStation]) -> list[list[float]]:
    """Haversine distances between every pair (symmetric, zero diagonal)."""
    lats = [math.radians(s.lat) for s in stations]
    lons = [math.radians(s.lon) for s in stations]
    cosines = [math.cos(lat) for lat in lats]
    size = len(stations)
    matrix = [[0.0] * size for _ in range(size)]
    for i in range(size):
        row = matrix[i]
        for j in range(i + 1, size):
            a = (
                math.sin((lats[j] - lats[i]) / 2) ** 2
                + cosines[i] * cosines[j] * math.sin((lons[j] - lons[i]) / 2) ** 2
            )
            distance = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(max(a, 0.0), 1.0)))
            row[j] = distance
            matrix[j][i] = distance
    return matrix


def complete_linkage(stations: Sequence[KnownStation], max_distance_m: float) -> list[list[KnownStation]]:
    """Clusters whose diameter is at most `max_distance_m`; deterministic for a given input set.

    Of equally close pairs the one with the lowest indexes (by key) merges first; clusters are
    listed by their lowest index, members in key order."""
    ordered = sorted(stations, key=lambda s: s.key)
    if len(ordered) <= 1 or _bbox_diagonal_m(ordered) <= max_distance_m:
        return [ordered] if ordered else []
    linkage = _distance_matrix(ordered)
    members: list[list[int]] = [[i] for i in range(len(ordered))]
    alive = list(range(len(ordered)))
    while len(alive) > 1:
        best, pair = math.inf, (0, 0)
        for position, a in enumerate(alive):
            row = linkage[a]
            for b in alive[position + 1 :]:
                if row[b] < best:
                    best, pair = row[b], (a, b)
        if best > max_distance_m:
            break
        a, b = pair
        # complete linkage: the merged cluster's distance to any other is the larger of the two
        row_a, row_b = linkage[a], linkage[b]
        for c in alive:
            if c not in (a, b):
                merged = max(row_a[c], row_b[c])
                row_a[c] = merged
                linkage[c][a] = merged
        alive.remove(b)
        members[a] += members[b]
        members[b] = []
    return [[ordered[i] for i in sorted(members[group])] for group in alive]
