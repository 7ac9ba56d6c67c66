"""Cell areas recomputed from their cells (Ichnaea data/area.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openloc.aggregate.cell_area import area_from_cells
from openloc.geo.distance import bbox_radius_m, haversine_m
from openloc.model.records import StationRecord

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
AREA = "area#lte#262#1#100"


def cell(
    cid: int,
    lat: float | None,
    lon: float | None,
    radius: float = 1_000.0,
    region: str | None = "DE",
    extent: float | None = 0.01,
    last_seen: str | None = "2026-11-01",
) -> StationRecord:
    box = {}
    if lat is not None and lon is not None and extent is not None:
        box = {
            "min_lat": lat - extent,
            "max_lat": lat + extent,
            "min_lon": lon - extent,
            "max_lon": lon + extent,
        }
    return StationRecord(
        key=f"cell#lte#262#1#100#{cid}",
        lat=lat,
        lon=lon,
        radius=radius,
        region=region,
        last_seen=last_seen,
        **box,  # type: ignore[arg-type]
    )


def test_no_positioned_cells_is_none() -> None:
    assert area_from_cells(AREA, [], NOW) is None
    assert area_from_cells(AREA, [cell(1, None, None), cell(2, None, None, region="FR")], NOW) is None


def test_single_cell_area() -> None:
    area = area_from_cells(AREA, [cell(1, 52.5, 13.4, radius=1_234.4)], NOW)
    assert area is not None
    assert (area.key, area.lat, area.lon, area.num_cells, area.avg_cell_radius) == (
        AREA,
        52.5,
        13.4,
        1,
        1_234,
    )
    assert (area.min_lat, area.max_lat, area.min_lon, area.max_lon) == pytest.approx(
        (52.49, 52.51, 13.39, 13.41)
    )
    assert area.radius == round(bbox_radius_m(52.5, 13.4, 52.49, 13.39, 52.51, 13.41))
    assert area.region == "DE" and area.modified == NOW and area.last_seen == "2026-11-01"


def test_area_is_unweighted_mean_over_positioned_cells() -> None:
    cells = [
        cell(1, 52.0, 13.0, radius=1_000, extent=0.1, last_seen="2026-10-01"),
        cell(2, 52.2, 13.6, radius=2_000, extent=None, last_seen="2026-11-20"),
        cell(3, 52.4, 13.2, radius=4_000, extent=0.05, last_seen=None),
        cell(4, None, None, radius=100_000, region="FR", last_seen="2026-11-23"),  # ignored
    ]
    area = area_from_cells(AREA, cells, NOW)
    assert area is not None
    assert area.lat == pytest.approx(52.2) and area.lon == pytest.approx(13.6 / 3 + 26.2 / 3)
    # bbox over the cells' corners; cell 2 has none and contributes its centre.
    assert (area.min_lat, area.max_lat) == pytest.approx((51.9, 52.45))
    assert (area.min_lon, area.max_lon) == pytest.approx((12.9, 13.6))
    assert area.radius == round(
        bbox_radius_m(area.lat, area.lon, area.min_lat, area.min_lon, area.max_lat, area.max_lon)  # type: ignore[arg-type]
    )
    assert area.num_cells == 3 and area.avg_cell_radius == 2_333
    assert area.region == "DE" and area.last_seen == "2026-11-20"


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        (["DE", "DE", "AT"], "DE"),
        (["AT", "DE", "DE", None, None, None], "DE"),
        (["DE", "AT"], "AT"),  # tie: alphabetically first
        (["LU", "DE", "BE", "LU", "DE"], "DE"),
        ([None, None], None),
    ],
)
def test_majority_region(regions: list[str | None], expected: str | None) -> None:
    cells = [cell(i, 52.0 + i / 100, 13.0, region=region) for i, region in enumerate(regions)]
    area = area_from_cells(AREA, cells, NOW)
    assert area is not None and area.region == expected


cells_strategy = st.lists(
    st.builds(
        cell,
        cid=st.integers(0, 10**6),
        lat=st.one_of(st.none(), st.floats(49.0, 51.0)),
        lon=st.floats(9.0, 12.0),
        radius=st.floats(0, 50_000),
        region=st.sampled_from(["DE", "FR", "AT", None]),
        extent=st.one_of(st.none(), st.floats(0, 0.5)),
        last_seen=st.sampled_from([None, "2026-01-02", "2026-11-22"]),
    ),
    min_size=1,
    max_size=12,
)


@given(cells_strategy, st.data())
@settings(max_examples=80)
def test_area_properties(cells: list[StationRecord], data: st.DataObject) -> None:
    area = area_from_cells(AREA, cells, NOW)
    positioned = [c for c in cells if c.lat is not None]
    if not positioned:
        assert area is None
        return
    assert area is not None and area.num_cells == len(positioned)
    assert area.lat is not None and area.lon is not None
    assert area.min_lat is not None and area.max_lat is not None
    assert area.min_lon is not None and area.max_lon is not None
    assert area.min_lat <= area.lat <= area.max_lat
    assert area.min_lon <= area.lon <= area.max_lon
    for c in positioned:
        assert c.lat is not None and c.lon is not None
        # radius is rounded to whole metres
        assert area.radius + 0.5 >= haversine_m(area.lat, area.lon, c.lat, c.lon)
        assert area.min_lat <= c.lat <= area.max_lat and area.min_lon <= c.lon <= area.max_lon
    assert (
        min(c.radius for c in positioned) - 0.5
        <= area.avg_cell_radius
        <= max(c.radius for c in positioned) + 0.5
    )
    # Order of the cells does not matter, exactly.
    assert area_from_cells(AREA, data.draw(st.permutations(cells)), NOW) == area
