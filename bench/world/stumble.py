"""Stumbler sessions: people walking and driving a street grid, scanning and uploading.

Each session starts where people are (the density of the world), follows a rotated street grid
(150 m blocks), turns at crossings, and scans every few seconds. Reported positions carry GPS
noise consistent with the reported accuracy (a 95 % radius), plus rare outliers that claim a
good accuracy while being 100–400 m off. A session uploads its reports at its end as geosubmit
v2 bodies of at most 100 items (`openloc.api.schemas.GeosubmitRequest`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench.world.generate import sample_position
from bench.world.model import RADIOS, Radio, World
from bench.world.radio import Radios
from bench.world.wire import blue_entries, cell_entries, wifi_entries

BLOCK_M = 150.0
# The radio a phone is camped on during a scan (it falls back to the others when it hears none).
CAMPED: tuple[tuple[Radio, float], ...] = (("lte", 0.45), ("nr", 0.2), ("wcdma", 0.15), ("gsm", 0.2))
ITEMS_PER_UPLOAD = 100


@dataclass(frozen=True)
class Upload:
    """One POST /v2/geosubmit of a session: when it was received, its JSON body, and the address
    it came from (each session is one contributor; every 200th session shares a /24)."""

    received: datetime
    body: dict[str, Any]
    client_ip: str = "192.0.2.1"

    @property
    def items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.body["items"]
        return items


def camped_radio(rng: random.Random) -> list[Radio]:
    """The radio to try first, then the others in a fixed order."""
    first = rng.choices([r for r, _ in CAMPED], weights=[w for _, w in CAMPED])[0]
    return [first, *(r for r in RADIOS if r != first)]


def gps_fix(
    rng: random.Random, x: float, y: float, accuracy: float, outlier_share: float
) -> tuple[float, float]:
    """A reported position: 2-D normal error whose 95 % circle is `accuracy`, rare outliers."""
    sigma = accuracy / 2.4477  # sqrt(chi2(0.95, 2))
    fx, fy = x + rng.gauss(0, sigma), y + rng.gauss(0, sigma)
    if rng.random() < outlier_share:
        angle = rng.uniform(0, 2 * math.pi)
        off = rng.uniform(100, 400)
        fx, fy = fx + off * math.cos(angle), fy + off * math.sin(angle)
    return fx, fy


def _session(world: World, radios: Radios, index: int) -> Iterator[tuple[float, dict[str, Any]]]:
    config = world.config
    rng = random.Random(f"{config.seed}/session/{index}")
    highway = config.highway_sessions > 0 and rng.random() < config.highway_sessions
    driving = highway or rng.random() < 0.6
    speed = rng.uniform(20, 30) if highway else rng.uniform(7, 14) if driving else rng.uniform(1.0, 1.7)
    interval = 2.0 if driving else 4.0
    day = rng.randrange(config.survey_days)
    t = day * 86_400.0 + rng.uniform(7, 19) * 3_600.0
    x, y = sample_position(rng, config)
    heading = rng.choice((0.0, 90.0, 180.0, 270.0))
    if highway:  # the road along the east–west axis, end to end and back
        x, y = rng.uniform(-1.0, 1.0) * config.radius_m, rng.choice((-6.0, 6.0))
        heading = rng.choice((90.0, 270.0))
    since_turn = 0.0
    for _ in range(config.scans_per_session):
        step = speed * interval
        since_turn += step
        if highway:
            if abs(x) > config.radius_m:
                heading = 270.0 if x > 0 else 90.0
        elif since_turn >= BLOCK_M:
            since_turn = 0.0
            if math.hypot(x, y) > config.radius_m * 0.95:  # head back to town
                heading = float(round(math.degrees(math.atan2(-x, -y)) / 90) * 90 % 360)
            elif rng.random() < 0.3:
                heading = (heading + rng.choice((90.0, -90.0))) % 360
        x += step * math.sin(math.radians(heading))
        y += step * math.cos(math.radians(heading))
        t += interval
        wifi, blue = radios.hear(rng, x, y, t)
        cells = []
        for radio in camped_radio(rng):
            cells = [c for c in radios.hear_cells(rng, x, y, radio) if c.sector.mapped]
            if cells:
                break
        if len(wifi) < 2 and not blue and not cells:
            continue
        accuracy = rng.lognormvariate(math.log(5.0 if driving else 8.0), 0.4)
        fx, fy = gps_fix(rng, x, y, accuracy, config.gps_outlier_share)
        lat, lon = world.frame.to_latlon(fx, fy)
        timestamp = config.survey_start + timedelta(seconds=t)
        yield t, {
            "timestamp": int(timestamp.timestamp() * 1000),
            "position": {
                "latitude": round(lat, 7), "longitude": round(lon, 7), "accuracy": round(accuracy, 1),
                "speed": round(speed, 1), "heading": heading, "source": "gps",
            },
            "wifiAccessPoints": wifi_entries(wifi),
            "bluetoothBeacons": blue_entries(blue),
            "cellTowers": cell_entries(cells),
        }  # fmt: skip


def session_address(index: int) -> str:
    """A contributor's address (documentation range 203.0.113.0/24 grown to a /16 of /24s)."""
    return f"203.{index // 200 % 250}.{index % 200}.{7 + index % 11}"


def survey_uploads(world: World, radios: Radios | None = None) -> list[Upload]:
    """Every session's uploads, in the order they were received."""
    radios = radios or Radios(world)
    uploads = []
    for index in range(world.config.sessions):
        scans = list(_session(world, radios, index))
        if not scans:
            continue
        end = world.config.survey_start + timedelta(seconds=scans[-1][0] + 60)
        items = [item for _, item in scans]
        for start in range(0, len(items), ITEMS_PER_UPLOAD):
            body = {"items": items[start : start + ITEMS_PER_UPLOAD]}
            uploads.append(Upload(end, body, session_address(index)))
    uploads.sort(key=lambda u: u.received)
    return uploads
