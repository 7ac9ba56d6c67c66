"""Property: a sharded job run by the in-process executor publishes what the single run does.

On small worlds (`world.py`: several countries and 1° grid cells, Bluetooth and Wi-Fi, cells and
areas, stations without a region, coverage next to 180°) with shard sizes drawn by hypothesis,
so shards, parts and blocks cut the data at arbitrary places.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openloc.jobs import cell_export_full, station_publish, tiles
from openloc.jobs.executor import direct, run_local
from openloc.jobs.stores import JobStores
from openloc.publish.manifest import read_manifest
from openloc.publish.tile_set import PMTILES_KEY, archive_tiles
from openloc.settings import Settings
from openloc.store.objects import MemoryObjectStore

from tests.unit.jobs.world import NOW, coverage, world

TABLES = ("wifi", "blue", "cell", "cell_area")


def _stores(seed: int, **limits: Any) -> JobStores:
    settings = Settings(**limits)  # the shard sizes under test
    return JobStores.in_memory(settings, stations=world(seed), coverage=coverage(seed))


def _sharded(job: Any, stores: JobStores) -> dict[str, Any]:
    summary: dict[str, Any] = run_local(
        job, stores.state, direct(stores, job), {"time": NOW.isoformat()}, threads=3
    ).summary
    return summary


def _lines(store: MemoryObjectStore, key: str) -> list[str]:
    return gzip.decompress(store.get(key) or b"").decode().splitlines()


def _pack(store: MemoryObjectStore, key: str) -> tuple[dict[str, str], dict[str, list[tuple[Any, ...]]]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pack.sqlite"
        path.write_bytes(gzip.decompress(store.get(key) or b""))
        db = sqlite3.connect(path)
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        rows = {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall()) for table in TABLES}
        db.close()
    return meta, rows


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), shard_cells=st.integers(1, 60))
def test_sharded_cell_export_has_the_single_runs_rows(seed: int, shard_cells: int) -> None:
    single, sharded = _stores(seed), _stores(seed, cell_export_shard_cells=shard_cells)
    one = cell_export_full.run(single, NOW).summary
    many = _sharded(cell_export_full.SHARDED, sharded)
    assert (many["key"], many["rows"]) == (one["key"], one["rows"])
    expected, found = _lines(single.assets, one["key"]), _lines(sharded.assets, many["key"])  # type: ignore[arg-type]
    assert found[0] == expected[0]  # the header, once, first
    assert sorted(found[1:]) == sorted(expected[1:]) and len(found) == one["rows"] + 1
    entries = read_manifest(sharded.assets)[0]
    assert entries is not None and [f.path for f in entries.files] == [one["key"]]


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), scan=st.integers(5, 400), part_rows=st.integers(3, 150))
def test_sharded_dumps_and_packs_hold_the_single_runs_rows_in_parts(
    seed: int, scan: int, part_rows: int
) -> None:
    single = _stores(seed)
    sharded = _stores(seed, publish_shard_stations=scan, pack_part_rows=part_rows)
    station_publish.run(single, NOW)
    _sharded(station_publish.SHARDED, sharded)
    one, _ = read_manifest(single.assets)
    many, _ = read_manifest(sharded.assets)
    assert one is not None and many is not None
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for entry in many.files:
        groups.setdefault((entry.kind, entry.region, entry.format), []).append(entry)
    assert set(groups) == {(f.kind, f.region, f.format) for f in one.files if f.kind != "cell-full"}
    for reference in one.files:
        parts = sorted(groups[(reference.kind, reference.region, reference.format)], key=lambda f: f.path)
        if reference.format == "csv.gz":  # one CSV per region, rows in any order
            (only,) = parts
            assert only.path == reference.path and only.rows == reference.rows
            expected, found = _lines(single.assets, reference.path), _lines(sharded.assets, only.path)  # type: ignore[arg-type]
            assert found[0] == expected[0] and sorted(found[1:]) == sorted(expected[1:])
            continue
        _, expected_rows = _pack(single.assets, reference.path)  # type: ignore[arg-type]
        union: dict[str, Counter[tuple[Any, ...]]] = {table: Counter() for table in TABLES}
        count = len(parts)
        for entry in parts:
            extra = entry.model_extra or {}
            assert extra["parts"] == count and 1 <= extra["part"] <= count
            meta, rows = _pack(sharded.assets, entry.path)  # type: ignore[arg-type]
            assert (meta["part"], meta["parts"]) == (str(extra["part"]), str(count))
            assert json.loads(meta["bbox"]) == extra["bbox"]
            west, south, east, north = extra["bbox"]
            for table in ("wifi", "blue", "cell"):
                scale = 10 ** int(meta[f"{table}_decimals" if table != "cell" else "cell_decimals"])
                lat_at, lon_at = (1, 2) if table != "cell" else (5, 6)
                for row in rows[table]:
                    assert south - 1e-9 <= row[lat_at] / scale <= north + 1e-9
                    assert west - 1e-9 <= row[lon_at] / scale <= east + 1e-9
            # Parts stay within the row budget (a cell over it is cut into equal slices); a
            # station or cell is in one part only; the region's areas are in every part.
            assert sum(len(rows[t]) for t in ("wifi", "blue", "cell")) <= part_rows
            if reference.kind == "offline-pack":
                assert rows["cell_area"] == expected_rows["cell_area"]
            for table in TABLES:
                union[table].update(rows[table])
            if count == 1:
                assert entry.path == reference.path
            else:
                assert entry.path.endswith(f"-{extra['part']}of{count}.sqlite.gz")
        for table in ("wifi", "blue", "cell"):
            assert union[table] == Counter(expected_rows[table])  # each exactly once
        assert sum(entry.rows or 0 for entry in parts) >= (reference.rows or 0)  # areas repeat per part


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000), shard_cells=st.integers(20, 400), extra=st.integers(0, 10_000))
def test_sharded_tiles_draw_the_single_runs_pyramid_and_archive_also_incrementally(
    seed: int, shard_cells: int, extra: int
) -> None:
    single, sharded = _stores(seed), _stores(seed, tiles_shard_cells=shard_cells)

    def same() -> None:
        tiles.run(single, NOW)
        summary = _sharded(tiles.SHARDED, sharded)
        pngs = {k: single.assets.get(k) for k in single.assets.keys("tiles/") if k.endswith(".png")}
        assert pngs == {k: sharded.assets.get(k) for k in sharded.assets.keys("tiles/") if k.endswith(".png")}
        expected = dict(archive_tiles(single.assets.get(PMTILES_KEY) or b""))
        assert dict(archive_tiles(sharded.assets.get(PMTILES_KEY) or b"")) == expected
        assert summary["archive_tiles"] == len(expected)

    same()
    # A day later: new streets somewhere else, and part of the old coverage gone.
    more = coverage(extra, cells=120)
    for store in (single, sharded):
        grids = store.coverage.grids  # type: ignore[attr-defined]
        for dropped in sorted(grids)[: len(grids) // 3]:
            del grids[dropped]
        grids.update(more.grids)
    same()
