"""Hypothesis strategies shared by the coverage tile tests (tiles, tile_set)."""

from __future__ import annotations

from hypothesis import strategies as st

# Cells within ~3 km of a point, so random grids share tiles at every zoom.
near_cells = st.lists(
    st.tuples(st.integers(52_500, 52_530), st.integers(13_390, 13_430)), min_size=0, max_size=40
)
