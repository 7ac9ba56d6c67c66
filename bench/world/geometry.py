"""Flat local geometry around the city centre: metres east/north ↔ latitude/longitude.

A city spans a few kilometres, where an equirectangular projection is exact to well under a
metre, so the generator works in metres and converts only when it writes a payload.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True, slots=True)
class Frame:
    """A local tangent plane anchored at (lat0, lon0)."""

    lat0: float
    lon0: float

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        lat = self.lat0 + y / METRES_PER_DEGREE
        lon = self.lon0 + x / (METRES_PER_DEGREE * math.cos(math.radians(self.lat0)))
        return lat, lon

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        x = (lon - self.lon0) * METRES_PER_DEGREE * math.cos(math.radians(self.lat0))
        y = (lat - self.lat0) * METRES_PER_DEGREE
        return x, y


def distance(ax: float, ay: float, bx: float, by: float) -> float:
    return math.hypot(ax - bx, ay - by)
