"""Baseline (b): Ichnaea's position algorithm, reimplemented from its documentation.

Source: the reference summary of mozilla/ichnaea (api/locate/{mac,cell,score,result,geoip}.py);
constants as documented there. Runs on the station *records* of the previous aggregation (Ichnaea's,
so the score can use created/modified/last_seen/samples as Ichnaea did). Reproduced on purpose:
the ascending score sort before taking the top 20/10 networks of a cluster, the p95-of-centres
accuracy without station radii, and GeoIP taking the *smaller* of the city radius and MaxMind's
accuracy_radius. Ichnaea minimises Σ (dᵢ·wᵢ)² with scipy's leastsq; on a city-sized plane the
minimiser is the wᵢ²-weighted mean, computed here in closed form. Complete-linkage clustering
is OpenLoc's implementation of the same rule (scipy "complete" linkage cut at the distance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openloc.geo.distance import haversine_m
from openloc.locate.clustering import complete_linkage
from openloc.locate.geoip import record_from_raw
from openloc.locate.query import KnownStation, MacSignal
from openloc.model.records import StationRecord
from openloc.store.stations import MemoryStationStore

from bench.accuracy.engines import Answer, parsed, positioned
from bench.world import Query

# (max cluster distance m, max networks, min accuracy, max accuracy, default signal)
MAC = {"wifi": (500.0, 20, 10.0, 500.0, -100), "blue": (100.0, 10, 10.0, 50.0, -100)}
CELL_ACCURACY = (1_000.0, 50_000.0)
AREA_ACCURACY = (50_000.0, 500_000.0)
CELL_MIN_SIGNAL = {"gsm": -113, "wcdma": -121, "lte": -140, "nr": -140}
CITY_RADIUS_M = 25_000.0
SUBDIVISION_RADIUS_M = 400_000.0
CITY_SCORE = 0.3
COUNTRY_SCORE = 0.9


@dataclass(frozen=True, slots=True)
class Result:
    lat: float
    lon: float
    accuracy: float
    score: float
    source: str


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def station_score(record: StationRecord, now: datetime, area: bool = False) -> float:
    """age weight × collection weight × samples weight (api/locate/score.py)."""
    modified = record.modified or now
    months = (now - modified).days // 30
    age_w = 1.0 / math.sqrt(months + 1)
    created = record.created or modified
    if record.block_last:
        created = max(created, datetime.fromisoformat(record.block_last).replace(tzinfo=created.tzinfo))
    seen = (
        datetime.fromisoformat(record.last_seen).replace(tzinfo=now.tzinfo) if record.last_seen else modified
    )
    collection_w = min(max((seen - created).days, 1) / 10.0, 1.0)
    if area:
        samples_w = min(math.sqrt(max(record.num_cells, 1)), 10.0)
    else:
        samples = record.samples if record.radius else 1
        samples_w = min(max(math.log2(max(samples, 1)), 0.5), 10.0)
    return age_w * collection_w * samples_w


def _age_factor(age_ms: int | None) -> float:
    age = max(abs(age_ms) if age_ms else 0, 1000)
    return min(math.sqrt(2000.0 / age), 1.0)


def _percentile_95(values: list[float]) -> float:
    """numpy's default (linear interpolation) 95th percentile."""
    ordered = sorted(values)
    rank = 0.95 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _weighted_mean(points: list[tuple[StationRecord, float]]) -> tuple[float, float]:
    total = sum(w for _, w in points)
    return (
        sum((r.lat or 0.0) * w for r, w in points) / total,
        sum((r.lon or 0.0) * w for r, w in points) / total,
    )


def _mac_results(
    kind: str, seen: tuple[MacSignal, ...], found: dict[str, StationRecord], now: datetime
) -> list[Result]:
    max_distance, max_networks, min_acc, max_acc, default_signal = MAC[kind]
    signals = {m.mac: m for m in seen}
    records = {f"{kind}#{mac}": found[f"{kind}#{mac}"] for mac in signals if f"{kind}#{mac}" in found}
    if len(records) < 2:
        return []
    scores = {key: station_score(r, now) for key, r in records.items()}
    stations = [KnownStation(key, r.lat or 0.0, r.lon or 0.0, r.radius) for key, r in records.items()]
    if len(stations) == 2:
        a, b = stations
        clusters = [stations] if haversine_m(a.lat, a.lon, b.lat, b.lon) <= max_distance else []
    else:
        clusters = [c for c in complete_linkage(stations, max_distance) if len(c) >= 2]
    results = []
    for cluster in clusters:
        cluster_score = sum(scores[s.key] for s in cluster)
        chosen = sorted(cluster, key=lambda s: scores[s.key])[:max_networks]  # ascending: Ichnaea's quirk
        weighted = []
        for station in chosen:
            signal = signals[station.key.split("#", 1)[1]]
            dbm = signal.signal if signal.signal is not None else default_signal
            w = scores[station.key] * _age_factor(signal.age_ms) / float(dbm) ** 2
            weighted.append((records[station.key], w * w))  # least squares of d·w → w²-weighted mean
        lat, lon = _weighted_mean(weighted)
        distances = [haversine_m(lat, lon, s.lat, s.lon) for s in chosen]
        accuracy = _clamp(_percentile_95(distances), (min_acc, max_acc))
        results.append(Result(lat, lon, accuracy, cluster_score, kind))
    return results


def _cell_results(query: Any, found: dict[str, StationRecord], now: datetime) -> list[Result]:
    by_area: dict[str, list[tuple[StationRecord, int, int | None]]] = {}
    for signal in query.cells:
        for cell in signal.ids:
            if cell.key in found:
                dbm = signal.signal if signal.signal is not None else CELL_MIN_SIGNAL[cell.radio.value]
                by_area.setdefault(cell.area_key, []).append((found[cell.key], dbm, signal.age_ms))
                break
    results = []
    for cells in by_area.values():
        scores = [station_score(r, now) for r, _, _ in cells]
        if len(cells) == 1:
            record = cells[0][0]
            results.append(
                Result(
                    record.lat or 0.0,
                    record.lon or 0.0,
                    _clamp(record.radius, CELL_ACCURACY),
                    scores[0],
                    "cell",
                )
            )
            continue
        weighted = [
            (r, score * _age_factor(age) / float(dbm) ** 2)
            for (r, dbm, age), score in zip(cells, scores, strict=True)
        ]
        lat, lon = _weighted_mean(weighted)
        distances = [haversine_m(lat, lon, r.lat or 0.0, r.lon or 0.0) for r, _, _ in cells]
        results.append(
            Result(lat, lon, _clamp(_percentile_95(distances), CELL_ACCURACY), sum(scores), "cell")
        )
    return results


def best(results: list[Result]) -> Result | None:
    """result.py: cluster results that agree within 1.5× accuracy, take the strongest cluster's
    most accurate member."""
    if not results:
        return None
    ordered = sorted(results, key=lambda r: r.accuracy)
    chosen: list[Result] = []
    chosen_key = (-1.0, -1.0)
    for i, result in enumerate(ordered):
        cluster = [result] + [
            other
            for other in ordered[i + 1 :]
            if haversine_m(result.lat, result.lon, other.lat, other.lon)
            <= max(1.5 * result.accuracy, 1.5 * other.accuracy)
        ]
        key = (sum(r.score for r in cluster), max(r.score for r in cluster))
        if key > chosen_key:
            chosen, chosen_key = cluster, key
    return min(chosen, key=lambda r: (r.accuracy, -r.score))


class Ichnaea:
    def __init__(
        self, stations: MemoryStationStore, geoip_path: Path | None, now: datetime, region_radius_m: float
    ) -> None:
        self.stations = stations
        self.now = now
        self.region_radius_m = region_radius_m
        self._reader: Any = None
        if geoip_path is not None:
            import maxminddb

            self._reader = maxminddb.open_database(str(geoip_path))

    def _geoip(self, ip: str) -> Result | None:
        record = record_from_raw(self._reader.get(ip)) if self._reader is not None else None
        if record is None:
            return None
        if record.city:
            radius = min(CITY_RADIUS_M, (record.accuracy_radius_km or 1e9) * 1000.0, self.region_radius_m)
            return Result(record.lat, record.lon, radius, CITY_SCORE, "geoip")
        return Result(
            record.lat, record.lon, min(SUBDIVISION_RADIUS_M, self.region_radius_m), COUNTRY_SCORE, "geoip"
        )

    def __call__(self, query: Query) -> Answer | None:
        q = parsed(query)
        found = positioned(self.stations.get_stations(q.station_keys))
        results = _mac_results("blue", q.blues, found, self.now) + _mac_results(
            "wifi", q.wifis, found, self.now
        )
        cells = _cell_results(q, found, self.now)
        results += cells
        if not cells and q.lacf and q.cells:
            for area in positioned(self.stations.get_areas(q.area_keys)).values():
                results.append(
                    Result(
                        area.lat or 0.0, area.lon or 0.0, _clamp(area.radius, AREA_ACCURACY),
                        station_score(area, self.now, area=True), "cell_area",
                    )
                )  # fmt: skip
        if q.ipf and q.client_ip:
            ip = self._geoip(q.client_ip)
            if ip is not None:
                results.append(ip)
        chosen = best(results)
        return None if chosen is None else Answer(chosen.lat, chosen.lon, chosen.accuracy, chosen.source)
