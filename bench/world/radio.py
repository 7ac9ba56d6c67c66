"""What a phone at a point hears: log-distance path loss with shadowing, sectored cells.

Wi-Fi: P(d) = P(1 m) − 10·2.8·log10(d) + N(0, 4 dB), heard above −93 dBm 90 % of the time
(≈ 100–180 m range). Bluetooth: exponent 2.2, heard above −95 dBm (≈ 30–60 m). A cell is heard
when its distance, normalised by its range in that direction (sector antenna pattern) and a
log-normal shadowing factor, is below 1; its signal rises 30 dB per decade closer than that.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass

from bench.world.model import Emitter, Radio, Sector, World

WIFI_EXPONENT, WIFI_FLOOR, WIFI_SHADOW = 2.8, -93.0, 4.0
BLUE_EXPONENT, BLUE_FLOOR, BLUE_SHADOW = 2.2, -95.0, 3.0
DETECTION = 0.9
CELL_FLOOR: dict[Radio, float] = {"gsm": -110.0, "wcdma": -115.0, "lte": -120.0, "nr": -125.0}
CELL_SIGNAL_RANGE: dict[Radio, tuple[int, int]] = {
    "gsm": (-113, -51), "wcdma": (-121, -25), "lte": (-140, -43), "nr": (-156, -31),
}  # fmt: skip
GRID_M = 250.0


@dataclass(frozen=True, slots=True)
class Heard:
    emitter: Emitter
    signal: int


@dataclass(frozen=True, slots=True)
class HeardCell:
    sector: Sector
    signal: int


class Radios:
    """Spatial index of a world's emitters (static, relocated and mobile) and cells."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._grid: dict[tuple[int, int], list[Emitter]] = defaultdict(list)
        self._mobile: list[Emitter] = []
        for emitter in world.emitters:
            if emitter.mobile:
                self._mobile.append(emitter)
                continue
            self._grid[self._cell(emitter.x, emitter.y)].append(emitter)
            if emitter.moved_at_s is not None:
                self._grid[self._cell(emitter.x2, emitter.y2)].append(emitter)
        self.sectors: dict[Radio, list[Sector]] = defaultdict(list)
        for sector in world.sectors:
            self.sectors[sector.radio].append(sector)

    @staticmethod
    def _cell(x: float, y: float) -> tuple[int, int]:
        return math.floor(x / GRID_M), math.floor(y / GRID_M)

    def _near(self, x: float, y: float) -> list[Emitter]:
        cx, cy = self._cell(x, y)
        found = {}
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for emitter in self._grid.get((cx + dx, cy + dy), ()):
                    found[emitter.mac] = emitter
        return [*found.values(), *self._mobile]

    def hear(self, rng: random.Random, x: float, y: float, t_s: float) -> tuple[list[Heard], list[Heard]]:
        """Wi-Fi access points and Bluetooth beacons heard at (x, y) at time t_s, strongest first."""
        wifi: list[Heard] = []
        blue: list[Heard] = []
        for emitter in self._near(x, y):
            ex, ey = emitter.position(t_s)
            d = max(math.hypot(ex - x, ey - y), 1.0)
            if d > 2 * GRID_M:
                continue
            if emitter.kind == "wifi":
                rssi = emitter.tx_dbm - 10 * WIFI_EXPONENT * math.log10(d) + rng.gauss(0, WIFI_SHADOW)
                if rssi >= WIFI_FLOOR and rng.random() < DETECTION:
                    wifi.append(Heard(emitter, max(-100, min(-10, round(rssi)))))
            else:
                rssi = emitter.tx_dbm - 10 * BLUE_EXPONENT * math.log10(d) + rng.gauss(0, BLUE_SHADOW)
                if rssi >= BLUE_FLOOR and rng.random() < DETECTION:
                    blue.append(Heard(emitter, max(-127, min(0, round(rssi)))))
        wifi.sort(key=lambda h: (-h.signal, h.emitter.mac))
        blue.sort(key=lambda h: (-h.signal, h.emitter.mac))
        return wifi, blue

    def hear_cells(
        self, rng: random.Random, x: float, y: float, radio: Radio, neighbours: int = 2
    ) -> list[HeardCell]:
        """The serving cell of `radio` at (x, y) and up to `neighbours` more, strongest first."""
        heard = []
        for sector in self.sectors.get(radio, ()):
            d = max(math.hypot(sector.x - x, sector.y - y), 10.0)
            if d > 1.5 * sector.range_m:
                continue
            u = d / (sector.range_m * sector.gain(math.atan2(y - sector.y, x - sector.x)))
            u *= math.exp(rng.gauss(0, 0.12))
            if u >= 1:
                continue
            low, high = CELL_SIGNAL_RANGE[radio]
            signal = round(CELL_FLOOR[radio] - 30 * math.log10(u))
            heard.append(HeardCell(sector, max(low, min(high, signal))))
        heard.sort(key=lambda h: (-h.signal, h.sector.cid))
        return heard[: 1 + neighbours]
