"""Demo data for a fresh local stack: the API key `test` and a small seeded neighbourhood.

The neighbourhood is around Berlin Alexanderplatz: 40 Wi-Fi access points on a jittered grid,
6 Bluetooth beacons, 4 LTE cells of one tracking area, and that area. Positions are generated
from a fixed seed, so the README's example requests always answer the same way. Each Wi-Fi access
point broadcasts the SSID `openloc-demo-<i>` and each beacon the name `openloc-beacon-<i>`: the
stations carry those names' digests and their alias items, so a demo network can also be located
by its published identifier (`hashedId`, docs/api.md).

With a coverage store, the seed also draws demo coverage (the coverage-map grid cells of a few
seeded "walks" through the neighbourhood) and two weeks of daily counters for the stats page.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from openloc.geo.datamap import grid_cell
from openloc.ingest.station_writes import Aliases
from openloc.model.identifiers import station_digest
from openloc.model.keys import CellId, area_key, blue_key, wifi_key
from openloc.model.kinds import Radio, StationKind
from openloc.model.records import ApiKeyRecord, StationRecord
from openloc.store.api_keys import ApiKeyStore
from openloc.store.coverage import CoverageStore
from openloc.store.stations import StationStore

CENTER = (52.5219, 13.4132)
DEMO_KEY = "test"
WIFI_COUNT = 40
WIFI_PREFIX = "001a2b00"  # globally administered, unicast
BLUE_PREFIX = "c0ffee00"
DEMO_CELLS = [CellId(Radio.LTE, 262, "01", 4711, 26866945 + i) for i in range(4)]
WALKS = 24  # demo coverage: seeded random walks from the centre
WALK_STEPS = 160
STEP_M = 40.0
STATS_DAYS = 14


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / 111_320.0, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


def demo_mac(prefix: str, index: int) -> str:
    return f"{prefix}{index:04x}"


def demo_name(kind: StationKind, index: int) -> str:
    """The SSID (Wi-Fi) or advertised name (Bluetooth) demo station `index` broadcasts."""
    return f"openloc-demo-{index}" if kind is StationKind.WIFI else f"openloc-beacon-{index}"


def demo_stations(now: datetime) -> list[StationRecord]:
    rng = random.Random(20261123)
    records: list[StationRecord] = []

    def station(
        key: str,
        north: float,
        east: float,
        radius: float,
        samples: int,
        psc: int | None = None,
        name_hash: str | None = None,
    ) -> None:
        lat, lon = _offset(*CENTER, north, east)
        records.append(
            StationRecord(
                key=key, lat=lat, lon=lon, min_lat=lat, max_lat=lat, min_lon=lon, max_lon=lon, radius=radius,
                region="DE", samples=samples, weight=float(samples), psc=psc, created=now, modified=now,
                last_seen=now.date().isoformat(), version=1, name_hash=name_hash,
                name_votes=samples if name_hash else 0,
            )
        )  # fmt: skip

    for i in range(WIFI_COUNT):
        row, col = divmod(i, 8)
        mac = demo_mac(WIFI_PREFIX, i)
        station(
            wifi_key(mac),
            (row - 2) * 60 + rng.uniform(-15, 15),
            (col - 3.5) * 60 + rng.uniform(-15, 15),
            rng.uniform(30, 80),
            rng.randint(5, 200),
            name_hash=station_digest(StationKind.WIFI, mac, demo_name(StationKind.WIFI, i)),
        )
    for i in range(6):
        mac = demo_mac(BLUE_PREFIX, i)
        station(
            blue_key(mac),
            rng.uniform(-40, 40),
            rng.uniform(-40, 40),
            15,
            rng.randint(3, 50),
            name_hash=station_digest(StationKind.BLUE, mac, demo_name(StationKind.BLUE, i)),
        )
    for i, cell in enumerate(DEMO_CELLS):
        angle = i * math.pi / 2
        station(cell.key, 900 * math.sin(angle), 900 * math.cos(angle), 2_500, 500, psc=100 + i)
    return records


def demo_area(now: datetime) -> StationRecord:
    cell = DEMO_CELLS[0]
    return StationRecord(
        key=area_key(cell.radio, cell.mcc, cell.mnc, cell.lac), lat=CENTER[0], lon=CENTER[1], radius=3_400,
        region="DE", num_cells=len(DEMO_CELLS), avg_cell_radius=2_500, modified=now,
    )  # fmt: skip


def demo_coverage() -> set[tuple[str, str]]:
    """Datamap grid cells along seeded random walks (streets walked by imaginary stumblers)."""
    rng = random.Random(52)
    cells: set[tuple[str, str]] = set()
    for _ in range(WALKS):
        lat, lon = CENTER
        heading = rng.uniform(0, 2 * math.pi)
        for _ in range(WALK_STEPS):
            heading += rng.gauss(0, 0.35)
            lat, lon = _offset(lat, lon, STEP_M * math.cos(heading), STEP_M * math.sin(heading))
            cells.add(grid_cell(lat, lon))
    return cells


def demo_stats(today: datetime) -> dict[str, dict[str, int]]:
    """Daily counters (day → metric → value) for the STATS_DAYS days up to `today`."""
    rng = random.Random(14)
    days: dict[str, dict[str, int]] = {}
    for back in range(STATS_DAYS - 1, -1, -1):
        reports = rng.randint(150, 900)
        days[(today - timedelta(days=back)).date().isoformat()] = {
            "reports": reports,
            "observations": reports * rng.randint(6, 14),
            "new_wifi": rng.randint(20, 120),
            "new_blue": rng.randint(0, 15),
            "new_cell": rng.randint(0, 4),
        }
    return days


def seed_demo(
    stations: StationStore,
    api_keys: ApiKeyStore,
    now: datetime | None = None,
    coverage: CoverageStore | None = None,
) -> int:
    """Write the demo key and neighbourhood (and demo coverage); returns the number of stations written."""
    now = now or datetime.now(UTC)
    api_keys.put(ApiKeyRecord(key=DEMO_KEY, shortname="demo", maxreq=0))
    records = demo_stations(now)
    stations.put_stations(records)
    aliases = Aliases()
    for record in records:
        aliases.follow(None, record)
    aliases.write(stations)
    stations.put_areas([demo_area(now)])
    if coverage is not None:
        coverage.touch_grids(demo_coverage(), now.date().isoformat())
        for day, counters in demo_stats(now).items():
            coverage.add_stats(counters, day)
    return len(records)
