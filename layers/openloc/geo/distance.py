"""Great-circle distances on a spherical Earth (mean radius, as Ichnaea's Haversine fallback)."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_009.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres between two WGS-84 points (spherical approximation, < 0.5 % error)."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bbox_radius_m(
    lat: float, lon: float, min_lat: float, min_lon: float, max_lat: float, max_lon: float
) -> float:
    """Largest distance from a centre to the four corners of a bounding box."""
    return max(
        haversine_m(lat, lon, corner_lat, corner_lon)
        for corner_lat in (min_lat, max_lat)
        for corner_lon in (min_lon, max_lon)
    )
