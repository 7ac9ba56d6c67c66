"""Lay out a world: emitters with a dense centre and sparse suburbs, cell towers, a GeoIP plan."""

from __future__ import annotations

import functools
import math
import random

from bench.world.geometry import distance
from bench.world.model import Emitter, IpBlock, Radio, Sector, World, WorldConfig

# First octets with the multicast and locally-administered bits clear (real vendor OUIs).
WIFI_OUIS = ("001a2b", "3c5a37", "f4f26d", "a0f3c1", "c83a35", "9c5c8e", "b0487a", "e894f6")
BLUE_OUIS = ("ac233f", "e2c56d", "c4be84", "d0f018")
# Per radio: site spacing in the centre (m), coverage range as a multiple of the local spacing,
# share of sites carrying the radio, radius (m) beyond which the radio is not deployed.
CELL_LAYERS: dict[Radio, tuple[float, float, float, float]] = {
    "gsm": (800.0, 2.2, 0.8, math.inf),
    "wcdma": (650.0, 1.8, 0.7, math.inf),
    "lte": (450.0, 1.8, 1.0, math.inf),
    "nr": (250.0, 1.5, 1.0, 3_000.0),
}
LAC_BASE: dict[Radio, int] = {"gsm": 1000, "wcdma": 2000, "lte": 3000, "nr": 4000}
OTHER_CITIES = ((48.1374, 11.5755), (53.5511, 9.9937), (50.9375, 6.9603), (51.3397, 12.3731))


def _stream(config: WorldConfig, name: str) -> random.Random:
    """An independent, reproducible random stream per part of the world."""
    return random.Random(f"{config.seed}/{name}")


@functools.cache
def village_centres(config: WorldConfig) -> list[tuple[float, float]]:
    """The villages of a rural world, on both sides of the highway (seeded by the world)."""
    rng = _stream(config, "villages")
    out = []
    for _ in range(config.villages):
        x = rng.uniform(-0.9, 0.9) * config.radius_m
        y = rng.choice((-1.0, 1.0)) * rng.uniform(100.0, 0.35 * config.radius_m)
        out.append((x, y))
    return out


def sample_position(rng: random.Random, config: WorldConfig) -> tuple[float, float]:
    """Where people and their networks are: a dense core (exponential falloff) plus suburbs; in a
    rural world, villages and the houses along the highway."""
    if config.villages:
        if rng.random() < config.highway_share:
            return rng.uniform(-1.0, 1.0) * config.radius_m, rng.gauss(0.0, 40.0)
        vx, vy = rng.choice(village_centres(config))
        r = rng.gammavariate(2.0, config.village_m / 2.0)
        angle = rng.uniform(0, 2 * math.pi)
        return vx + r * math.cos(angle), vy + r * math.sin(angle)
    while True:
        if rng.random() < config.suburb_share:
            r = config.radius_m * math.sqrt(rng.random())
        else:
            r = rng.gammavariate(2.0, config.core_scale_m)
        if r <= config.radius_m:
            angle = rng.uniform(0, 2 * math.pi)
            return r * math.cos(angle), r * math.sin(angle)


def _emitters(config: WorldConfig) -> list[Emitter]:
    rng = _stream(config, "emitters")
    out: list[Emitter] = []
    for i in range(config.wifi_aps):
        x, y = sample_position(rng, config)
        tx = rng.uniform(-45.0, -30.0)
        channel = rng.choice((1, 6, 11, 36, 40, 44, 48, 100, 149))
        mac = f"{WIFI_OUIS[i % len(WIFI_OUIS)]}{i:06x}"
        roll = rng.random()
        if roll < config.relocated_share:
            # moves house once: during the survey or up to 30 % of its length after it
            survey_s = config.survey_days * 86_400.0
            moved_at = rng.uniform(0.1, 1.3) * survey_s
            while True:
                x2, y2 = sample_position(rng, config)
                if distance(x, y, x2, y2) > 1_000:
                    break
            out.append(Emitter(mac, "wifi", x, y, tx, channel, moved_at_s=moved_at, x2=x2, y2=y2))
        elif roll < config.relocated_share + config.mobile_share:
            angle = rng.uniform(0, 2 * math.pi)
            length = rng.uniform(2_000, 6_000)
            out.append(
                Emitter(
                    mac, "wifi", x, y, tx, channel,
                    x2=x + length * math.cos(angle), y2=y + length * math.sin(angle),
                    period_s=rng.uniform(1_800, 5_400),
                )
            )  # fmt: skip
        else:
            out.append(Emitter(mac, "wifi", x, y, tx, channel))
    # Beacons cluster in shops and stations: a tighter core than Wi-Fi.
    beacon_config = _core_only(config)
    for i in range(config.ble_beacons):
        x, y = sample_position(rng, beacon_config)
        out.append(Emitter(f"{BLUE_OUIS[i % len(BLUE_OUIS)]}{i:06x}", "blue", x, y, rng.uniform(-66, -56)))
    return out


def _core_only(config: WorldConfig) -> WorldConfig:
    from dataclasses import replace

    return replace(config, suburb_share=0.1, core_scale_m=config.core_scale_m * 0.6)


def _lac(radio: Radio, x: float, y: float) -> int:
    """Tracking/location areas: a central area, then rings split into octants."""
    r = math.hypot(x, y)
    ring = min(int(r // 2_500), 3)
    slices = 1 if ring == 0 else 4 * ring
    octant = int(((math.atan2(y, x) + math.pi) / (2 * math.pi)) * slices) % slices
    return LAC_BASE[radio] + ring * 16 + octant


def _cid(radio: Radio, site: int, sector: int) -> tuple[int, int | None]:
    if radio == "gsm":
        return 10_000 + site * 4 + sector, None
    if radio == "wcdma":
        return (100 + site // 4000) << 16 | (site % 4000) * 4 + sector, (site * 3 + sector) % 512
    if radio == "lte":
        return (50_000 + site) << 8 | sector, (site * 3 + sector) % 504
    return (70_000 + site) * 4096 + sector, (site * 3 + sector) % 1008


def _local_spacing(spacing: float, r: float, config: WorldConfig) -> float:
    """Towers thin out towards the suburbs (half as dense per core scale length)."""
    return spacing * (1 + 0.5 * r / config.core_scale_m)


def _sites(
    rng: random.Random, config: WorldConfig, spacing: float, limit: float
) -> list[tuple[float, float]]:
    """Tower sites, denser in the centre: rejection sampling against a radius-dependent spacing."""
    sites: list[tuple[float, float]] = []
    misses = 0
    while misses < 400:
        x, y = sample_position(rng, config)
        r = math.hypot(x, y)
        if r > limit:
            misses += 1
            continue
        local = _local_spacing(spacing, r, config)
        if all(distance(x, y, sx, sy) >= local for sx, sy in sites):
            sites.append((x, y))
            misses = 0
        else:
            misses += 1
    return sites


def _sectors(config: WorldConfig) -> list[Sector]:
    rng = _stream(config, "cells")
    out: list[Sector] = []
    for radio, (spacing, reach, share, limit) in CELL_LAYERS.items():
        for site, (x, y) in enumerate(_sites(rng, config, spacing, limit)):
            if rng.random() > share:
                continue
            local = _local_spacing(spacing, math.hypot(x, y), config)
            rotation = rng.uniform(0, 120)
            for sector in range(3):
                cid, pci = _cid(radio, site, sector)
                out.append(
                    Sector(
                        radio=radio, mcc=config.mcc, mnc=config.mnc, lac=_lac(radio, x, y), cid=cid,
                        pci=pci, x=x, y=y, azimuth_deg=(rotation + 120 * sector) % 360,
                        range_m=reach * local * rng.uniform(0.8, 1.2),
                        mapped=rng.random() >= config.unmapped_cell_share,
                    )
                )  # fmt: skip
    return out


def _ip_blocks(config: WorldConfig) -> list[IpBlock]:
    """The world's ISPs as /24s: mostly located to the city centre, some to the wrong city, some
    only to the country (the usual quality mix of free GeoIP data)."""
    rng = _stream(config, "ip")
    blocks = []
    for i in range(config.ip_blocks):
        network = f"85.{10 + i // 250}.{i % 250}.0/24"
        roll = rng.random()
        if roll < 0.7:
            lat, lon = config.center
            blocks.append(IpBlock(network, lat, lon, True, rng.choice((5, 10, 20, 50))))
        elif roll < 0.85:
            lat, lon = rng.choice(OTHER_CITIES)
            blocks.append(IpBlock(network, lat, lon, True, rng.choice((20, 50, 100)), wrong_city=True))
        else:
            blocks.append(IpBlock(network, 51.1657, 10.4515, False, 1000))
    return blocks


def generate_world(config: WorldConfig | None = None) -> World:
    """The world of `config` (the default-size world when None). Deterministic."""
    config = config or WorldConfig()
    return World(config, _emitters(config), _sectors(config), _ip_blocks(config))
