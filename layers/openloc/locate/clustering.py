"""Complete-linkage clustering of stations by distance.

Two stations end in the same cluster only if *every* pair in the cluster is within
`max_distance_m`, so a single moved access point far from the others forms its own cluster
instead of dragging the answer. Pure Python: queries carry at most a few dozen networks.
"""

from __future__ import annotations

from collections.abc import Sequence

from openloc.geo.distance import haversine_m
from openloc.locate.model import KnownStation


def complete_linkage(stations: Sequence[KnownStation], max_distance_m: float) -> list[list[KnownStation]]:
    """Clusters whose diameter is at most `max_distance_m`; deterministic for a given input set."""
    ordered = sorted(stations, key=lambda s: s.key)
    n = len(ordered)
    dist = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            d = haversine_m(ordered[i].lat, ordered[i].lon, ordered[j].lat, ordered[j].lon)
            dist[i][j] = dist[j][i] = d
    clusters: list[list[int]] = [[i] for i in range(n)]
    # linkage[a][b] = max distance between members of clusters a and b
    while len(clusters) > 1:
        best: tuple[float, int, int] | None = None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                link = max(dist[i][j] for i in clusters[a] for j in clusters[b])
                if link <= max_distance_m and (best is None or link < best[0]):
                    best = (link, a, b)
        if best is None:
            break
        _, a, b = best
        clusters[a] = clusters[a] + clusters[b]
        del clusters[b]
    return [[ordered[i] for i in members] for members in clusters]
