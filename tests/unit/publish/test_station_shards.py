"""Routing, part planning and the parts contract of the sharded dumps and packs."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.jobs import station_publish
from openloc.jobs.executor import direct, run_local
from openloc.jobs.stores import JobStores
from openloc.model.kinds import StationKind
from openloc.publish.manifest import read_manifest
from openloc.publish.policy import PublishedStation
from openloc.publish.station_shards import (
    AREA_CELL,
    PACK,
    bucket_code,
    file_key,
    grid_cell,
    hilbert_index,
    parse_line,
    plan_parts,
    region_code,
    region_name,
    split_code,
    station_line,
)
from openloc.settings import Settings

from tests.unit.jobs.world import NOW, world


def test_hilbert_index_visits_every_cell_once_and_neighbours_follow_each_other() -> None:
    side = 16
    order = {hilbert_index(x, y, side): (x, y) for x in range(side) for y in range(side)}
    assert sorted(order) == list(range(side * side))
    for d in range(side * side - 1):
        (x0, y0), (x1, y1) = order[d], order[d + 1]
        assert abs(x0 - x1) + abs(y0 - y1) == 1


@given(st.sampled_from(["world", "DE", "AA", "ZZ", "mcc-262", "mcc-0", "mcc-999"]), st.integers(-1, 200_000))
def test_bucket_codes_round_trip(region: str, cell: int) -> None:
    assert region_name(region_code(region)) == region
    for family in ("pack", "wifi", "blue"):
        assert split_code(bucket_code(family, region, cell)) == (family, region, cell)


@pytest.mark.parametrize("region", ["de", "DEU", "mcc-1000", "", "Ä1"])
def test_unknown_region_spellings_are_refused(region: str) -> None:
    with pytest.raises(ValueError):
        region_code(region)


def test_grid_cells_clamp_the_poles_and_the_antimeridian() -> None:
    assert grid_cell(90.0, 180.0) == hilbert_index(359, 179)
    assert grid_cell(-90.0, -180.0) == hilbert_index(0, 0)


def _plan(counts: dict[int, int], budget: int) -> list[tuple[int | None, int | None, object, int, int]]:
    codes = np.array(sorted(bucket_code(PACK, "DE", c) for c in counts), dtype=np.int64)
    rows = np.array([counts[split_code(int(code))[2]] for code in codes], dtype=np.int64)
    return [(p.low, p.high, p.slice, p.part, p.parts) for p in plan_parts(codes, rows, budget)]


def test_parts_follow_the_curve_within_the_budget_and_slice_an_oversized_cell() -> None:
    plans = _plan({AREA_CELL: 40, 3: 60, 5: 30, 9: 25, 11: 260, 12: 10}, budget=100)
    assert plans == [
        (3, 5, None, 1, 6),  # 60 + 30
        (9, 9, None, 2, 6),  # 25 (+ the oversized cell would not fit)
        (11, 11, (0, 3), 3, 6),  # 260 rows in 3 slices of ≤ 100
        (11, 11, (1, 3), 4, 6),
        (11, 11, (2, 3), 5, 6),
        (12, 12, None, 6, 6),
    ]


def test_a_pack_of_cell_areas_only_has_one_part() -> None:
    assert _plan({AREA_CELL: 5}, budget=100) == [(None, None, None, 1, 1)]


def test_file_names_keep_the_single_file_name_for_one_part() -> None:
    assert (
        file_key(PACK, "DE", "2026-11-20", 1, 1, "sqlite.gz")
        == "exports/offline/2026-11-20/openloc-pack-DE.sqlite.gz"
    )
    assert file_key(PACK, "DE", "2026-11-20", 2, 3, "sqlite.gz").endswith("openloc-pack-DE-2of3.sqlite.gz")
    assert file_key("wifi", "world", "2026-11-20", 4, 9, "sqlite.gz") == (
        "exports/stations/wifi/2026-11-20/openloc-wifi-world-4of9.sqlite.gz"
    )


def test_two_generations_of_parts_stay_listed_and_stored() -> None:
    stores = JobStores.in_memory(Settings(pack_part_rows=40, publish_shard_stations=100), stations=world(5))
    days = [NOW - timedelta(days=2), NOW - timedelta(days=1), NOW]
    for day in days:
        run_local(
            station_publish.SHARDED,
            stores.state,
            direct(stores, station_publish.SHARDED),
            {"time": day.isoformat()},
        )
    manifest, _ = read_manifest(stores.assets)
    assert manifest is not None
    packs = [f for f in manifest.files if f.kind == "offline-pack" and f.region == "DE"]
    parts = {f.created: (f.model_extra or {})["parts"] for f in packs}
    assert sorted(parts) == [day.replace(microsecond=0) for day in days[1:]]  # two generations
    assert len(packs) == sum(parts.values()) and max(parts.values()) > 1  # every part of each
    stored = set(stores.assets.keys("exports/offline/"))
    assert {f.path for f in manifest.files if f.kind == "offline-pack"} == stored  # the oldest deleted
    assert not any(days[0].strftime("%Y-%m-%d") in key for key in stores.assets.keys("exports/"))


def test_station_lines_round_trip_and_older_lines_read_the_later_fields_as_unknown() -> None:
    station = PublishedStation(StationKind.WIFI, "ab" * 16, 52.52, 13.41, 100, 30, None, 80, -71, 35, 12, 4)
    assert parse_line(station_line(station)) == station
    before_shape = station_line(station).rsplit(",", 3)[0]  # written before the footprint shape
    assert parse_line(before_shape) == PublishedStation(
        StationKind.WIFI, "ab" * 16, 52.52, 13.41, 100, 30, None, 80, -71, 0, 0, 0
    )
    before_loudest = station_line(station).rsplit(",", 4)[0]  # and before `loudest`
    assert parse_line(before_loudest) == PublishedStation(
        StationKind.WIFI, "ab" * 16, 52.52, 13.41, 100, 30, None, 80, 0, 0, 0, 0
    )
