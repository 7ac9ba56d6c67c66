"""A small deterministic world for privacy/offline tests: Wi-Fi networks with SSIDs, Bluetooth
beacons with names and LTE cells around one point, observed by simulated stumbler reports and
scanned by held-out clients. (bench/world is the full simulator; this is the unit-test-sized one.)"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openloc.geo.distance import haversine_m
from openloc.ingest.pipeline import PipelineStores, process_reports
from openloc.model.kinds import Radio
from openloc.model.report import BlueObservation, CellObservation, Report, WifiObservation

CENTER = (52.5219, 13.4132)
START = datetime(2026, 10, 1, tzinfo=UTC)
WIFI_RANGE_M = 90.0
BLUE_RANGE_M = 25.0
CELL_RANGE_M = 3_000.0


def offset(north_m: float, east_m: float) -> tuple[float, float]:
    lat = CENTER[0] + north_m / 111_320.0
    return lat, CENTER[1] + east_m / (111_320.0 * math.cos(math.radians(CENTER[0])))


@dataclass(frozen=True)
class Network:
    kind: str  # wifi, blue, cell
    mac: str  # 12 hex (cells: "")
    name: str  # SSID / beacon name (cells: "")
    lat: float
    lon: float
    cell: tuple[int, str, int, int] | None = None  # mcc, mnc, lac, cid


def build_world(
    seed: int = 7, wifis: int = 120, blues: int = 12, blue_spread_m: float = 300.0
) -> list[Network]:
    rng = random.Random(seed)
    world = []
    for i in range(wifis):
        lat, lon = offset(rng.uniform(-600, 600), rng.uniform(-600, 600))
        world.append(Network("wifi", f"00163e{i:06x}", f"net-{i}", lat, lon))
    for i in range(blues):
        lat, lon = offset(
            rng.uniform(-blue_spread_m, blue_spread_m), rng.uniform(-blue_spread_m, blue_spread_m)
        )
        world.append(Network("blue", f"c0ffee{i:06x}", f"beacon-{i}", lat, lon))
    for i in range(4):
        lat, lon = offset(900 * math.sin(i * math.pi / 2), 900 * math.cos(i * math.pi / 2))
        world.append(Network("cell", "", "", lat, lon, (262, "01", 4711, 1000 + i)))
    return world


def visible(world: list[Network], lat: float, lon: float) -> list[tuple[Network, int]]:
    seen = []
    for network in world:
        reach = {"wifi": WIFI_RANGE_M, "blue": BLUE_RANGE_M, "cell": CELL_RANGE_M}[network.kind]
        distance = haversine_m(lat, lon, network.lat, network.lon)
        if distance <= reach:
            seen.append((network, int(-40 - 50 * distance / reach)))
    return seen


def report_at(world: list[Network], lat: float, lon: float, when: datetime) -> Report:
    seen = visible(world, lat, lon)
    return Report(
        timestamp=int(when.timestamp() * 1000),
        latitude=lat,
        longitude=lon,
        accuracy=10.0,
        wifi=tuple(WifiObservation(mac=n.mac, signal=s, ssid=n.name) for n, s in seen if n.kind == "wifi"),
        bluetooth=tuple(
            BlueObservation(mac=n.mac, signal=s, name=n.name) for n, s in seen if n.kind == "blue"
        ),
        cells=tuple(
            CellObservation(
                radio=Radio.LTE, mcc=n.cell[0], mnc=n.cell[1], lac=n.cell[2], cid=n.cell[3], signal=s
            )
            for n, s in seen
            if n.cell is not None
        ),
    )


def memory_stores() -> PipelineStores:
    return PipelineStores.in_memory()


def observe(
    world: list[Network],
    stores: PipelineStores,
    start: datetime,
    days: int,
    per_day: int,
    seed: int,
    spread_m: float = 650.0,
) -> None:
    """`per_day` stumbler reports a day at random places, aggregated day by day."""
    rng = random.Random(seed)
    for day in range(days):
        when = start + timedelta(days=day)
        reports = []
        for _ in range(per_day):
            lat, lon = offset(rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m))
            report = report_at(world, lat, lon, when)
            if report.usable:
                reports.append(report)
        process_reports(reports, stores, when, message_id=f"day-{day}")
