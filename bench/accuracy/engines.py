"""OpenLoc through its real HTTP app, and the two baselines (`bench.accuracy.run` adds the oracle and
the previous engine).

Every locator sees the same parsed query (`openloc.api.locate_query.build_query`); OpenLoc runs on
the stations of its own aggregation, the baselines on those of the previous one (Ichnaea's
weighted means, `UpdatePolicy(fit_positions=False)`), as each system would have them.

- OpenLoc: POST /v1/geolocate on the real Starlette app (`build_app`) with in-memory stores and the
  world's GeoIP file; the client IP arrives as X-Forwarded-For behind one trusted proxy.
- Centroid (baseline a): a signal-weighted (1/dBm²) mean of *all* known networks of the most
  precise kind present — Wi-Fi and Bluetooth together, else cells, else cell areas, else GeoIP —
  without clustering; radius = the farthest used network's distance plus its own radius.
- Ichnaea (baseline b): `bench.accuracy.ichnaea`, reimplemented from the reference document.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openloc.api.app import build_app
from openloc.api.locate_query import build_query
from openloc.api.schemas import LocateRequest
from openloc.api.services import Services, country_radius_m
from openloc.geo.distance import haversine_m
from openloc.locate.geoip import GeoIpDatabase
from openloc.locate.query import LocateQuery
from openloc.model.records import ApiKeyRecord, StationRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.queue import MemoryObservationQueue
from openloc.store.stations import MemoryStationStore

from bench.world import Query

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@dataclass(frozen=True, slots=True)
class Answer:
    lat: float
    lon: float
    accuracy: float
    source: str  # wifi/blue/cell/cell_area/geoip, or "http" (OpenLoc: lacf/ipf/—)


Locator = Callable[[Query], Answer | None]


def parsed(query: Query) -> LocateQuery:
    return build_query(LocateRequest.model_validate(query.body), query.client_ip)


def positioned(records: dict[str, StationRecord]) -> dict[str, StationRecord]:
    return {k: r for k, r in records.items() if r.lat is not None and r.lon is not None}


class OpenLocHttp:
    """The real /v1/geolocate route, in process (ASGI through Starlette's test client)."""

    def __init__(self, stations: MemoryStationStore, geoip_path: Path | None) -> None:
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines per request
        geoip = (
            GeoIpDatabase(str(geoip_path), country_radius=country_radius_m)
            if geoip_path is not None
            else None
        )
        services = Services(
            settings=Settings(trusted_proxy_hops=1),
            stations=stations,
            api_keys=MemoryApiKeyStore(ApiKeyRecord(key="bench")),
            queue=MemoryObservationQueue(),
            redis=lambda: None,
            database_ping=lambda: None,
            geoip=geoip,
        )
        self.client = TestClient(build_app(services), raise_server_exceptions=True)
        self.latencies_ms: list[float] = []

    def __call__(self, query: Query) -> Answer | None:
        headers = {"X-Forwarded-For": query.client_ip} if query.client_ip else {}
        start = time.perf_counter()
        response = self.client.post("/v1/geolocate?key=bench", json=query.body, headers=headers)
        self.latencies_ms.append((time.perf_counter() - start) * 1000)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return Answer(
            data["location"]["lat"], data["location"]["lng"], data["accuracy"], data.get("fallback") or "-"
        )


def _centroid(
    points: list[tuple[StationRecord, int | None]], default_signal: int
) -> tuple[float, float, float]:
    weights = [1.0 / float(signal if signal is not None else default_signal) ** 2 for _, signal in points]
    total = sum(weights)
    lat = sum(r.lat * w for (r, _), w in zip(points, weights, strict=True) if r.lat is not None) / total
    lon = sum(r.lon * w for (r, _), w in zip(points, weights, strict=True) if r.lon is not None) / total
    reach = max(haversine_m(lat, lon, r.lat or 0.0, r.lon or 0.0) + r.radius for r, _ in points)
    return lat, lon, reach


class Centroid:
    """Baseline (a): no clustering, no station quality, most precise kind wins."""

    def __init__(self, stations: MemoryStationStore, geoip: GeoIpDatabase | None) -> None:
        self.stations = stations
        self.geoip = geoip

    def __call__(self, query: Query) -> Answer | None:
        q = parsed(query)
        found = positioned(self.stations.get_stations(q.station_keys))
        macs = [(found[f"wifi#{m.mac}"], m.signal) for m in q.wifis if f"wifi#{m.mac}" in found]
        macs += [(found[f"blue#{m.mac}"], m.signal) for m in q.blues if f"blue#{m.mac}" in found]
        if len(macs) >= 2:
            lat, lon, reach = _centroid(macs, -100)
            return Answer(lat, lon, min(max(reach, 10.0), 5_000.0), "wifi")
        cells = [(found[c.key], s.signal) for s in q.cells for c in s.ids[:1] if c.key in found]
        if cells:
            lat, lon, reach = _centroid(cells, -120)
            return Answer(lat, lon, min(max(reach, 1_000.0), 100_000.0), "cell")
        if q.lacf and q.cells:
            areas = positioned(self.stations.get_areas(q.area_keys))
            if areas:
                lat, lon, reach = _centroid([(a, None) for a in areas.values()], -120)
                return Answer(lat, lon, min(max(reach, 50_000.0), 500_000.0), "cell_area")
        if q.ipf and q.client_ip and self.geoip is not None:
            ip = self.geoip.lookup(q.client_ip)
            if ip is not None:
                return Answer(ip.lat, ip.lon, ip.accuracy_m, "geoip")
        return None
