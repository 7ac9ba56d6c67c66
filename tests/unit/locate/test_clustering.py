"""Complete-linkage clustering of known stations."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from openloc.geo.distance import haversine_m
from openloc.locate.clustering import complete_linkage

from tests.unit.locate.support import wifi


def test_complete_linkage_separates_far_groups() -> None:
    near = [wifi(i, 0, i * 50) for i in range(3)]
    far = [wifi(10 + i, 5_000, i * 50) for i in range(2)]
    clusters = complete_linkage(near + far, 500)
    assert sorted(len(c) for c in clusters) == [2, 3]
    for cluster in clusters:
        assert {s.key for s in cluster} in ({s.key for s in near}, {s.key for s in far})


def test_complete_linkage_diameter_bound() -> None:
    # A chain with 400 m steps: single linkage would join all, complete linkage may not.
    chain = [wifi(i, 0, i * 400) for i in range(5)]
    for cluster in complete_linkage(chain, 500):
        for a in cluster:
            for b in cluster:
                assert haversine_m(a.lat, a.lon, b.lat, b.lon) <= 500


def test_complete_linkage_edge_cases() -> None:
    assert complete_linkage([], 500) == []
    single = wifi(1, 0, 0)
    assert complete_linkage([single], 500) == [[single]]


points = st.lists(
    st.tuples(st.floats(-2_000, 2_000), st.floats(-2_000, 2_000)), min_size=1, max_size=8, unique=True
)


@given(points, st.randoms(use_true_random=False))
def test_complete_linkage_partition_and_determinism(coords: list[tuple[float, float]], rnd) -> None:  # type: ignore[no-untyped-def]
    stations = [wifi(i, n, e) for i, (n, e) in enumerate(coords)]
    clusters = complete_linkage(stations, 500)
    flat = [s.key for c in clusters for s in c]
    assert sorted(flat) == sorted(s.key for s in stations)  # a partition
    shuffled = list(stations)
    rnd.shuffle(shuffled)
    again = complete_linkage(shuffled, 500)
    assert sorted(sorted(s.key for s in c) for c in again) == sorted(
        sorted(s.key for s in c) for c in clusters
    )
