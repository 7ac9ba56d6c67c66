"""Wi-Fi and Bluetooth source: a position from the known networks a client sees.

Privacy rule: at least two known networks that agree (lie within one cluster) are required, so
a client cannot learn the position of a single network it names.

The estimator (docs/accuracy.md):

1. **Weights from the signal.** A network heard at s dBm is about 10^(−s/(10·n)) metres away, so
   10 dB stronger means ≈ 2× nearer; its weight is 10^(s/20) (≈ 1/distance^1.5 for n ≈ 3), times
   the age of the scan entry. The station's sample count is *not* a weight: a network heard once
   by a stumbler is not farther from this client than one heard a thousand times. A Wi-Fi level
   counts at most `louder_margin_db` above the loudest any stumbler heard that network at: a
   client that hears it much louder stands near it but far from everywhere it was stumbled, so
   its position (placed from those observations) is off towards them, and its pull is held to
   that of a network heard at the stumblers' level plus the margin.
2. **Cluster selection.** Complete linkage (every pair within 500 m for Wi-Fi, 100 m for
   Bluetooth) splits moved and mobile networks off; clusters of fewer than two networks never
   answer; when an exact cell is known, clusters outside its circle are dropped first (the client
   is inside the cell it hears). The cluster with the most networks, then the most weight, wins.
3. **A robust mean.** Huber-weighted (iteratively reweighted): a network whose position lies
   farther than `HUBER_K` × its reach from the current estimate is down-weighted in proportion, so
   one badly placed network inside the cluster moves the answer little.
4. **The radius** is predicted from the query (`locate.radius`): the spread of the used networks
   around the answer, their reach, how many there are, how strongly the nearest is heard, how
   often they were observed, how surely each was placed (the shape of its footprint), and (Wi-Fi)
   how many of the networks given were not used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openloc.geo.distance import haversine_m
from openloc.locate.clustering import complete_linkage
from openloc.locate.query import Estimate, KnownStation, MacSignal, Source
from openloc.locate.radius import MacFeatures, log_shape, mac_radius


@dataclass(frozen=True)
class MacSourceConfig:
    source: Source
    prefix: str
    max_cluster_distance_m: float
    max_networks: int
    default_signal: int
    # How far a network is typically heard: the reach assumed for a station whose own reach is
    # unknown (seen once, or aggregated before footprints), and the floor of any station's reach.
    typical_range_m: float
    signal_scale_db: float  # weight = 10^(signal / signal_scale_db)
    typical_signal: int  # the radius model's strongest signal when none was sent
    # A level counts at most this far above the loudest the stumblers heard the station at (None:
    # no cap). Wi-Fi, 15 dB: chosen on the training seed (docs/accuracy.md): 0, 5 and 10 dB raised
    # the city medians by up to 14, 7 and 3 %; 15 dB left them within ±2 % and lowered the city p90s.
    louder_margin_db: float | None = None


WIFI = MacSourceConfig(Source.WIFI, "wifi#", 500.0, 20, -95, 30.0, 20.0, -75, louder_margin_db=15.0)
BLUE = MacSourceConfig(Source.BLUE, "blue#", 100.0, 10, -95, 10.0, 20.0, -75)

MIN_NETWORKS = 2
HUBER_K = 1.5  # residuals up to 1.5 × a network's reach count fully
ROBUST_ROUNDS = 3
BOUND_SCALE = 2.0

_M_PER_DEG = 111_320.0


def signal_weight(signal_dbm: float | None, config: MacSourceConfig) -> float:
    """Stronger signal → nearer network → more weight (10 dB ≈ ×3.2)."""
    signal = signal_dbm if signal_dbm is not None and signal_dbm < 0 else config.default_signal
    return float(10 ** (signal / config.signal_scale_db))


def age_weight(age_ms: int | None) -> float:
    """A network seen long before the scan was sent may be out of reach by now."""
    if age_ms is None:
        return 1.0
    return min(math.sqrt(2000.0 / max(abs(age_ms), 1000)), 1.0)


def capped_level(signal_dbm: int | None, station: KnownStation, config: MacSourceConfig) -> float | None:
    """The level the weight counts: the client's, at most `louder_margin_db` above the loudest
    the stumblers heard the station at (when both are known)."""
    margin = config.louder_margin_db
    if signal_dbm is None or signal_dbm >= 0 or margin is None or station.loudest >= 0:
        return signal_dbm
    return min(float(signal_dbm), station.loudest + margin)


def reach_of(station: KnownStation, config: MacSourceConfig) -> float:
    return max(station.reach, config.typical_range_m)


@dataclass(frozen=True, slots=True)
class _Fit:
    lat: float
    lon: float
    weights: dict[str, float]  # the robust weights the answer used


def _robust_mean(
    stations: Sequence[KnownStation], weights: Mapping[str, float], config: MacSourceConfig
) -> _Fit:
    """Huber-weighted mean: a station farther than HUBER_K × its reach from the estimate keeps
    only HUBER_K × reach / distance of its weight."""
    cos0 = math.cos(math.radians(stations[0].lat))
    current = {s.key: weights[s.key] for s in stations}
    lat = lon = 0.0
    for _ in range(ROBUST_ROUNDS):
        total = sum(current.values())
        lat = sum(s.lat * current[s.key] for s in stations) / total
        lon = sum(s.lon * current[s.key] for s in stations) / total
        changed = False
        for s in stations:
            distance = math.hypot((s.lat - lat) * _M_PER_DEG, (s.lon - lon) * _M_PER_DEG * cos0)
            limit = HUBER_K * reach_of(s, config)
            updated = weights[s.key] * (1.0 if distance <= limit else limit / distance)
            changed |= updated != current[s.key]
            current[s.key] = updated
        if not changed:
            break
    return _Fit(lat, lon, current)


def _features(
    fit: _Fit,
    used: Sequence[KnownStation],
    signals: Mapping[str, MacSignal],
    config: MacSourceConfig,
    unresolved: int = 0,
) -> MacFeatures:
    total = sum(fit.weights.values())
    cos0 = math.cos(math.radians(fit.lat))
    spread2 = reach = log_samples = log_breadth = log_offset = misfit = 0.0
    for s in used:
        share = fit.weights[s.key] / total
        east = (s.lon - fit.lon) * _M_PER_DEG * cos0
        north = (s.lat - fit.lat) * _M_PER_DEG
        spread2 += share * (east * east + north * north)
        reach += share * reach_of(s, config)
        log_samples += share * math.log(max(s.samples, 1))
        log_breadth += share * log_shape(s.breadth)
        log_offset += share * log_shape(s.offset)
        misfit += share * s.misfit
    levels = [signals[s.key.removeprefix(config.prefix)].signal for s in used]
    # without any signal the features take a typical level, not the weakest: unknown is not far
    strongest = max((s for s in levels if s is not None and s < 0), default=config.typical_signal)
    return MacFeatures(
        networks=len(used),
        spread_m=math.sqrt(spread2),
        reach_m=reach,
        strongest_dbm=float(min(strongest, -20)),
        samples=min(s.samples for s in used),
        log_samples=log_samples,
        unused=len(signals) - len(used) + unresolved,
        log_breadth=log_breadth,
        log_offset=log_offset,
        misfit_db=misfit,
    )


def _inside(cluster: Sequence[KnownStation], weights: Mapping[str, float], bound: Estimate) -> bool:
    """The cluster's weighted centre lies within the bounding answer's circle."""
    total = sum(weights[s.key] for s in cluster)
    lat = sum(s.lat * weights[s.key] for s in cluster) / total
    lon = sum(s.lon * weights[s.key] for s in cluster) / total
    return haversine_m(lat, lon, bound.lat, bound.lon) <= BOUND_SCALE * bound.accuracy


def known_networks(
    seen: Sequence[MacSignal], known: Mapping[str, KnownStation], config: MacSourceConfig
) -> tuple[dict[str, MacSignal], list[KnownStation], dict[str, float]]:
    """The networks seen by MAC, the known stations among them, and their signal × age weights."""
    signals = {m.mac: m for m in seen}
    stations = [known[config.prefix + mac] for mac in signals if config.prefix + mac in known]
    weights = {}
    for station in stations:
        signal = signals[station.key.removeprefix(config.prefix)]
        level = capped_level(signal.signal, station, config)
        weights[station.key] = signal_weight(level, config) * age_weight(signal.age_ms)
    return signals, stations, weights


def agreeing(stations: Sequence[KnownStation], max_distance_m: float) -> list[list[KnownStation]]:
    """The complete-linkage clusters that may answer: at least `MIN_NETWORKS` (privacy rule)."""
    return [c for c in complete_linkage(stations, max_distance_m) if len(c) >= MIN_NETWORKS]


def locate_macs(
    seen: Sequence[MacSignal],
    known: Mapping[str, KnownStation],
    config: MacSourceConfig,
    bound: Estimate | None = None,
    unresolved: int = 0,
) -> Estimate | None:
    """The position of the client from the networks it sees, or None (fewer than two agree).
    `bound`: an exact-cell answer; clusters outside its circle are not considered. `unresolved`:
    networks the client also sent, by a published identifier the database does not know (the
    radius counts them with the unknown MACs among `seen`)."""
    signals, stations, weights = known_networks(seen, known, config)
    if len(stations) < MIN_NETWORKS:
        return None
    clusters = agreeing(stations, config.max_cluster_distance_m)
    if bound is not None:
        clusters = [c for c in clusters if _inside(c, weights, bound)]
    if not clusters:
        return None
    best = max(clusters, key=lambda c: (len(c), sum(weights[s.key] for s in c)))
    best = sorted(best, key=lambda s: (-weights[s.key], s.key))[: config.max_networks]
    fit = _robust_mean(best, weights, config)
    accuracy = mac_radius(config.source, _features(fit, best, signals, config, unresolved))
    return Estimate(
        lat=fit.lat,
        lon=fit.lon,
        accuracy=accuracy,
        source=config.source,
        score=float(len(best)),
        used=tuple(s.key for s in best),
    )
