"""Station tables spread over several countries and grid cells, for the sharded-job tests.

Every record passes the publication rules unless asked otherwise (`unpublished` share), so the
sharded and single runs have real work: Wi-Fi and Bluetooth stations with name digests and a
week of history, LTE cells with areas, in a handful of countries and 1° grid cells (and a few
stations without a region, which only the world dumps hold).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from openloc.aggregate.cell_area import area_from_cells
from openloc.model.keys import CellId, area_of, mac_key
from openloc.model.kinds import Radio, StationKind
from openloc.model.records import StationRecord
from openloc.store.coverage import MemoryCoverageStore
from openloc.store.stations import MemoryStationStore

NOW = datetime(2026, 11, 20, 2, 7, tzinfo=UTC)
# (region, mcc, lat, lon) of a few places: two countries span several 1° cells.
PLACES = (
    ("DE", 262, 52.52, 13.41),
    ("DE", 262, 48.14, 11.58),
    ("DE", 262, 50.94, 6.96),
    ("FR", 208, 48.86, 2.35),
    ("FR", 208, 43.30, 5.37),
    ("NZ", 530, -36.85, 174.76),
    ("FJ", 542, -17.8, 179.9),  # next to 180°: the tiles' margin wraps
)


def _mac(rng: random.Random) -> str:
    first = rng.randrange(0, 256) & 0xFC  # universally administered, unicast
    return f"{first:02x}" + "".join(f"{rng.randrange(256):02x}" for _ in range(5))


def station(
    rng: random.Random, kind: StationKind, region: str | None, lat: float, lon: float
) -> StationRecord:
    created = NOW - timedelta(days=rng.randrange(8, 300))
    return StationRecord(
        key=mac_key(kind, _mac(rng)),
        lat=lat + rng.uniform(-0.6, 0.6),
        lon=lon + rng.uniform(-0.6, 0.6),
        radius=rng.uniform(10, 200),
        region=region,
        samples=rng.randrange(10, 400),
        created=created,
        modified=created,
        last_seen=(NOW - timedelta(days=1)).date().isoformat(),
        name_hash="".join(rng.choice("0123456789abcdef") for _ in range(32)),
        reach=rng.uniform(20, 150),  # offline packs carry it (format 2)
    )


def world(seed: int, wifi: int = 200, blue: int = 30, cells: int = 40) -> MemoryStationStore:
    rng = random.Random(seed)
    store = MemoryStationStore()
    records: list[StationRecord] = []
    for count, kind in ((wifi, StationKind.WIFI), (blue, StationKind.BLUE)):
        for _ in range(count):
            region, _mcc, lat, lon = rng.choice(PLACES)
            records.append(station(rng, kind, None if rng.random() < 0.05 else region, lat, lon))
    for index in range(cells):
        region, mcc, lat, lon = rng.choice(PLACES)
        cell = CellId(Radio.LTE, mcc, "01", 100 + index % 7, 10_000 + index)
        records.append(
            StationRecord(
                key=cell.key,
                lat=lat + rng.uniform(-0.5, 0.5),
                lon=lon + rng.uniform(-0.5, 0.5),
                radius=rng.uniform(200, 3000),
                region=region,
                samples=rng.randrange(1, 50),
                created=NOW - timedelta(days=30),
                modified=NOW - timedelta(days=2),
            )
        )
    store.put_stations(records)
    areas = {area_of(r.key) for r in records} - {None}
    for key in sorted(a for a in areas if a):
        area = area_from_cells(key, store.cells_in_area(key), NOW)
        if area is not None:
            store.put_areas([area])
    return store


def coverage(seed: int, cells: int = 400) -> MemoryCoverageStore:
    """Datamap grid cells around the places (streets of a few cells), as the aggregator writes them."""
    rng = random.Random(seed)
    store = MemoryCoverageStore()
    grids = []
    for _ in range(cells // 10):
        _region, _mcc, lat, lon = rng.choice(PLACES)
        lat_i, lon_i = (
            round((lat + rng.uniform(-0.8, 0.8)) * 1000),
            round((lon + rng.uniform(-0.8, 0.8)) * 1000),
        )
        for _step in range(10):
            lat_i += rng.choice((-1, 0, 1))
            lon_i += rng.choice((-1, 0, 1))
            lon_i = (lon_i + 180_000) % 360_000 - 180_000
            grids.append(("ne", f"{lat_i},{lon_i}"))
    store.touch_grids(grids, NOW.date().isoformat())
    return store
