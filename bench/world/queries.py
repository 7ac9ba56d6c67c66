"""Held-out locate queries with their ground truth, including adversarial ones.

Queries are asked at `WorldConfig.query_time` (after the survey) at positions drawn from the
world's density, with scans drawn independently of the survey (other shadowing, other misses):

- wifi: the Wi-Fi networks heard (≥ 2); wifi_cell: what a phone sends (Wi-Fi + its cells);
- ble: Bluetooth beacons only (≥ 2), near a beacon; cell: the cells of the camped radio only;
- cell_area: only cells switched on after the survey, so only their location area is known;
- ip: an empty body from an address of the world's GeoIP plan;
- moved_ap: a Wi-Fi scan at the new home of an access point that moved after the survey (the
  database still has its old position, kilometres away);
- single_ap: one access point only (must not be answered: privacy rule);
- mobile_ap: a Wi-Fi scan that includes a hotspot riding a bus line.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from bench.world.generate import sample_position
from bench.world.model import QUERY_KINDS, Emitter, Query, QueryKind, World
from bench.world.radio import Heard, Radios
from bench.world.stumble import camped_radio
from bench.world.wire import blue_entries, cell_entries, wifi_entries

MAX_TRIES = 200


class _Builder:
    def __init__(self, world: World, radios: Radios) -> None:
        self.world = world
        self.radios = radios
        self.t = (world.config.query_time - world.config.survey_start).total_seconds()
        self.relocated_late = [
            e for e in world.emitters
            if e.moved_at_s is not None and e.moved_at_s > world.config.survey_days * 86_400.0
        ]  # fmt: skip
        self.mobile = [e for e in world.emitters if e.mobile]
        self.beacons = [e for e in world.emitters if e.kind == "blue"]
        self.unmapped = [s for s in world.sectors if not s.mapped]

    def _near(self, rng: random.Random, x: float, y: float, spread: float) -> tuple[float, float]:
        angle = rng.uniform(0, 2 * math.pi)
        r = spread * math.sqrt(rng.random())
        return x + r * math.cos(angle), y + r * math.sin(angle)

    def _with(self, heard: list[Heard], emitter: Emitter, signal: int) -> list[Heard]:
        if all(h.emitter.mac != emitter.mac for h in heard):
            heard = sorted([*heard, Heard(emitter, signal)], key=lambda h: (-h.signal, h.emitter.mac))
        return heard

    def build(self, kind: QueryKind, rng: random.Random) -> tuple[float, float, dict[str, Any], str] | None:
        """(x, y, body, note) of one query of `kind`, or None when this draw does not qualify."""
        config = self.world.config
        x, y = sample_position(rng, config)
        if kind in ("wifi", "single_ap"):
            wifi, _ = self.radios.hear(rng, x, y, self.t)
            if kind == "single_ap":
                return (x, y, {"wifiAccessPoints": wifi_entries(wifi[:1])}, "") if wifi else None
            return (x, y, {"wifiAccessPoints": wifi_entries(wifi)}, "") if len(wifi) >= 2 else None
        if kind == "wifi_cell":
            wifi, _ = self.radios.hear(rng, x, y, self.t)
            cells = self.radios.hear_cells(rng, x, y, camped_radio(rng)[0])
            if not wifi and not cells:
                return None
            return x, y, {"wifiAccessPoints": wifi_entries(wifi), "cellTowers": cell_entries(cells)}, ""
        if kind == "ble":
            beacon = rng.choice(self.beacons)
            x, y = self._near(rng, beacon.x, beacon.y, 30.0)
            _, blue = self.radios.hear(rng, x, y, self.t)
            return (x, y, {"bluetoothBeacons": blue_entries(blue)}, "") if len(blue) >= 2 else None
        if kind == "cell":
            for radio in camped_radio(rng):
                cells = self.radios.hear_cells(rng, x, y, radio)
                if cells:
                    return x, y, {"cellTowers": cell_entries(cells), "considerIp": False}, radio
            return None
        if kind == "cell_area":
            if not self.unmapped:
                return None
            sector = rng.choice(self.unmapped)
            x, y = self._near(rng, sector.x, sector.y, sector.range_m * 0.7)
            cells = [c for c in self.radios.hear_cells(rng, x, y, sector.radio, 4) if not c.sector.mapped]
            if not cells:
                return None
            return x, y, {"cellTowers": cell_entries(cells), "considerIp": False}, sector.radio
        if kind == "ip":
            return x, y, {}, ""
        if kind == "moved_ap":
            if not self.relocated_late:
                return None
            moved = rng.choice(self.relocated_late)
            x, y = self._near(rng, moved.x2, moved.y2, 40.0)
            wifi, _ = self.radios.hear(rng, x, y, self.t)
            if len(wifi) < 2:
                return None
            wifi = self._with(wifi, moved, -60)
            return x, y, {"wifiAccessPoints": wifi_entries(wifi)}, moved.mac
        if kind == "mobile_ap":
            if not self.mobile:
                return None
            hotspot = rng.choice(self.mobile)
            x, y = self._near(rng, *hotspot.position(self.t), 10.0)
            wifi, _ = self.radios.hear(rng, x, y, self.t)
            if len(wifi) < 2:
                return None
            return x, y, {"wifiAccessPoints": wifi_entries(self._with(wifi, hotspot, -50))}, hotspot.mac
        raise ValueError(kind)


def make_queries(
    world: World, kinds: tuple[QueryKind, ...] = QUERY_KINDS, radios: Radios | None = None
) -> list[Query]:
    """`queries_per_kind` queries of each kind (fewer when the world cannot produce one)."""
    builder = _Builder(world, radios or Radios(world))
    out = []
    for kind in kinds:
        rng = random.Random(f"{world.config.seed}/queries/{kind}")
        made = 0
        for _ in range(world.config.queries_per_kind * MAX_TRIES):
            if made >= world.config.queries_per_kind:
                break
            built = builder.build(kind, rng)
            if built is None:
                continue
            x, y, body, note = built
            lat, lon = world.frame.to_latlon(x, y)
            client_ip = None
            if kind == "ip":
                block = rng.choice(world.ip_blocks)
                client_ip = block.host(made)
                note = block.network
            out.append(Query(f"{kind}-{made}", kind, lat, lon, body, client_ip, note))
            made += 1
    return out


QueryFilter = Callable[[Query], bool]
