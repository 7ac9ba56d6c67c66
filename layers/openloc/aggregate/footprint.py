"""Where a Wi-Fi access point or Bluetooth beacon is, from where and how strongly it was heard.

Stumblers walk and drive streets, so the plain mean of the positions a network was heard at lies on
the street, while the network sits in a building beside it. Two things fix most of that
(docs/accuracy.md, measured in docs/benchmarks.md):

- **Steep signal weights.** An observation heard at signal s is about d(s) = 10^((P₁ − s)/(10·n))
  metres from the network (log-distance path loss), so its position is worth 1/d² — ten decibels
  stronger is about five times the weight (Ichnaea's weight gives 1.5×). The transmit power P₁
  cancels: only differences between the network's own observations matter.
- **A fit of the path-loss model to the footprint.** The station keeps a *footprint*: at most
  `MAX_BINS` bins of observations heard within `BIN_M` of each other (mean position, count, mean
  signal), a fixed-size summary instead of the observations. The position is the maximum-likelihood
  fit of s = P₁ − 10·n·log10(distance) over the bins, P₁ profiled out, with a Gaussian prior of
  `PRIOR_M` around the steep-weighted mean: how fast the signal falls along the street tells how
  far from it the network is, and bins on two streets place it between them. Along a single street
  the two sides are symmetric and the fit stays near the street.

The fit is refreshed when the footprint gains or merges a bin, while the station has few samples,
and whenever its sample count reaches the next power of two; observations that only join an
existing bin leave the stored position as it is (it would move by far less than its uncertainty).
`reach` is the RMS distance of the footprint from the fitted position: how far the station is
typically heard, the locate engine's range scale.

Pure and deterministic for a given order of batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openloc.geo.distance import EARTH_RADIUS_M
from openloc.model.kinds import StationKind
from openloc.model.records import Footprint, StationRecord

MAX_BINS = 16
BIN_M = 12.0
MAX_BIN_COUNT = 100_000
# How much louder than a station's footprint predicts at a point (`expected_level`) an observation
# may be heard there and still be the station's (dB): five times the fit's Wi-Fi shadowing, with
# room for a line of sight (exponent 2 instead of 2.5 is 10 dB at 100 m). A louder one disagrees
# with the station as a far one does (docs/abuse.md; `aggregate.station_update`).
LOUDNESS_MARGIN_DB = 25.0
# No Wi-Fi or Bluetooth transmitter is heard louder than this at 1 m (dBm): the footprint's transmit
# power is taken as at most this, so loud observations next to a station cannot raise the limit.
LOUDEST_AT_1M_DBM = -10.0
# A bin nearer the station than this counts as this far when the transmit power is estimated: the
# position of a young station is the mean of where it was heard, not where it is.
NEAREST_BIN_M = 20.0


@dataclass(frozen=True, slots=True)
class FitModel:
    """Path-loss exponent n, shadowing σ (dB), the prior's σ (m) and the largest shift from the
    steep-weighted mean (m) of one kind of station. n is a typical published value (2–3.5), not the
    simulator's; the prior and the shift were chosen by the *locate* errors on the training seed of
    the accuracy profiles (docs/accuracy.md): a looser Wi-Fi fit sends a few more networks to the
    wrong side of their street, but places the ones off the street nearer to where clients hear
    them; the Wi-Fi locate median fell by 2–8 % per profile (p90 unchanged) from a 20 m prior
    held within 40 m. Bluetooth is heard over tens of metres: looser or tighter changed nothing."""

    exponent: float
    shadowing_db: float
    prior_m: float
    max_shift_m: float  # the fit never moves farther than this from the steep-weighted mean


MODELS = {
    StationKind.WIFI: FitModel(exponent=2.5, shadowing_db=5.0, prior_m=30.0, max_shift_m=100.0),
    StationKind.BLUE: FitModel(exponent=2.2, shadowing_db=4.0, prior_m=8.0, max_shift_m=15.0),
}
_RAD = math.pi / 180.0
_M_PER_DEG = EARTH_RADIUS_M * _RAD


def _scale(lat: float) -> float:
    """Metres per degree of longitude at `lat`."""
    return _M_PER_DEG * max(math.cos(lat * _RAD), 1e-6)


@dataclass(frozen=True, slots=True)
class Heard:
    """One observation for the footprint: its position and signal (dBm)."""

    lat: float
    lon: float
    signal: float


def _add(bins: list[list[float]], east: float, north: float, signal: float) -> bool:
    """Add one observation to `bins` ([east, north, count, signal sum]); True when a bin was
    created or two were merged (the footprint's shape changed)."""
    best: list[float] | None = None
    limit = BIN_M * BIN_M
    for b in bins:
        d2 = (b[0] - east) ** 2 + (b[1] - north) ** 2
        if d2 <= limit:
            best, limit = b, d2
    if best is not None:
        count = best[2] + 1.0
        best[0] += (east - best[0]) / count
        best[1] += (north - best[1]) / count
        best[2] = count
        best[3] += signal
        return False
    bins.append([east, north, 1.0, signal])
    if len(bins) > MAX_BINS:
        _merge_closest(bins)
    return True


def _merge_closest(bins: list[list[float]]) -> None:
    pair = (0, 1)
    closest = math.inf
    for i in range(len(bins)):
        bi = bins[i]
        for j in range(i + 1, len(bins)):
            d2 = (bi[0] - bins[j][0]) ** 2 + (bi[1] - bins[j][1]) ** 2
            if d2 < closest:
                closest, pair = d2, (i, j)
    a, b = bins[pair[0]], bins[pair[1]]
    count = a[2] + b[2]
    a[0] = (a[0] * a[2] + b[0] * b[2]) / count
    a[1] = (a[1] * a[2] + b[1] * b[2]) / count
    a[2] = count
    a[3] += b[3]
    del bins[pair[1]]


def _steep_mean(bins: list[list[float]], model: FitModel) -> tuple[float, float]:
    """Bins weighted by count × 1/d(mean signal)²: ten decibels ≈ ×10^(2/n)."""
    top = max(b[3] / b[2] for b in bins)
    steep = 5.0 * model.exponent
    total = east = north = 0.0
    for b in bins:
        w = b[2] * 10.0 ** ((b[3] / b[2] - top) / steep)
        total += w
        east += b[0] * w
        north += b[1] * w
    return east / total, north / total


def fit_position(bins: list[list[float]], model: FitModel, iterations: int = 6) -> tuple[float, float]:
    """Maximum a posteriori position (east, north) of the station from its bins: Gauss–Newton on
    the log-distance model with the transmit power profiled out and a Gaussian prior around the
    steep-weighted mean, started at the prior."""
    prior_e, prior_n = _steep_mean(bins, model)
    if len(bins) < 3:
        return prior_e, prior_n
    k = 10.0 * model.exponent / math.log(10.0)
    lam = (model.shadowing_db / model.prior_m) ** 2
    east, north = prior_e, prior_n
    total = sum(b[2] for b in bins)
    levels = [b[3] / b[2] for b in bins]
    for _ in range(iterations):
        # one pass: count-weighted sums of the Jacobian (je, jn) and the residual level
        s_e = s_n = s_l = s_ee = s_en = s_nn = s_el = s_nl = 0.0
        for b, level in zip(bins, levels, strict=True):
            de = east - b[0]
            dn = north - b[1]
            d2 = de * de + dn * dn
            d2 = max(d2, 1.0)
            c = b[2]
            je = k * de / d2
            jn = k * dn / d2
            lv = level + 0.5 * k * math.log(d2)
            cje = c * je
            cjn = c * jn
            s_e += cje
            s_n += cjn
            s_l += c * lv
            s_ee += cje * je
            s_en += cje * jn
            s_nn += cjn * jn
            s_el += cje * lv
            s_nl += cjn * lv
        # centred sums (the profiled transmit power removes the means)
        a11 = s_ee - s_e * s_e / total + lam
        a12 = s_en - s_e * s_n / total
        a22 = s_nn - s_n * s_n / total + lam
        g1 = s_el - s_e * s_l / total + lam * (east - prior_e)
        g2 = s_nl - s_n * s_l / total + lam * (north - prior_n)
        det = a11 * a22 - a12 * a12
        if det <= 0:
            break
        step_e = (a22 * g1 - a12 * g2) / det
        step_n = (a11 * g2 - a12 * g1) / det
        east -= step_e
        north -= step_n
        if step_e * step_e + step_n * step_n < 0.25:
            break
    shift = math.hypot(east - prior_e, north - prior_n)
    if not math.isfinite(shift):
        return prior_e, prior_n
    if shift > model.max_shift_m:
        east = prior_e + (east - prior_e) * model.max_shift_m / shift
        north = prior_n + (north - prior_n) * model.max_shift_m / shift
    return east, north


def _reach(bins: list[list[float]], east: float, north: float) -> float:
    total = sum(b[2] for b in bins)
    return math.sqrt(sum(b[2] * ((b[0] - east) ** 2 + (b[1] - north) ** 2) for b in bins) / total)


def expected_level(
    kind: StationKind | None, station: StationRecord, uncertainty_m: float = 0.0
) -> Callable[[float, float], float] | None:
    """How loud (dBm) the positioned `station` is expected to be heard at a point (lat, lon): its
    footprint's transmit power (count-weighted; each bin's at most `LOUDEST_AT_1M_DBM`, and bins
    counted at least `NEAREST_BIN_M` away) minus the path loss over the distance, less
    `uncertainty_m` (how far the station may be from its stored position). None: a kind without
    footprints, or a station without one (nothing to judge by)."""
    model = MODELS.get(kind) if kind is not None else None
    footprint = station.footprint
    if model is None or footprint is None or station.lat is None or station.lon is None:
        return None
    per_decade = 10.0 * model.exponent
    total = power = 0.0
    for east, north, count, level in footprint.bins:
        at_1m = level + per_decade * math.log10(max(math.hypot(east, north), NEAREST_BIN_M))
        total += count
        power += count * min(at_1m, LOUDEST_AT_1M_DBM)
    if total <= 0:
        return None
    power /= total
    lat0, lon0, scale = station.lat, station.lon, _scale(station.lat)

    def expected(lat: float, lon: float) -> float:
        distance = math.hypot((lon - lon0) * scale, (lat - lat0) * _M_PER_DEG)
        return power - per_decade * math.log10(max(distance - uncertainty_m, 1.0))

    return expected


@dataclass(frozen=True, slots=True)
class Placement:
    """A station's fitted position, its footprint relative to it, and its reach (m)."""

    lat: float
    lon: float
    footprint: Footprint
    reach: float


def place(
    kind: StationKind | None,
    base: StationRecord | None,
    heard: Sequence[Heard],
    samples: int,
    origin: tuple[float, float],
) -> Placement | None:
    """Where a station is after a batch: `base` is the positioned station the batch merges into
    (None when it is positioned from the batch alone: new, replaced or first position, with
    `origin` the batch's weighted mean), `heard` the batch's observations with a signal, `samples`
    the station's sample count after the batch. None: no footprint (no signal was ever heard, or a
    kind without one), the weighted mean stands."""
    model = MODELS.get(kind) if kind is not None else None
    if model is None:
        return None
    if base is not None and base.lat is not None and base.lon is not None:
        lat0, lon0 = base.lat, base.lon
    else:
        base = None
        lat0, lon0 = origin
    scale = _scale(lat0)
    if base is None:
        if not heard:
            return None
        bins: list[list[float]] = []
        refit = True
    elif base.footprint is None:
        if not heard:
            return None
        # A station from before footprints (or merged from another instance): its position
        # stands for its past samples, at the mean signal of today's observations.
        level = sum(h.signal for h in heard) / len(heard)
        count = float(min(max(base.samples, 1), MAX_BIN_COUNT))
        bins = [[0.0, 0.0, count, level * count]]
        refit = True
    else:
        bins = [[e, n, float(c), s * c] for e, n, c, s in base.footprint.bins]
        # refit while young and at every power of two of the samples: O(log n) fits in a life
        refit = base.samples < 8 or base.samples.bit_length() != samples.bit_length()
    for h in heard:
        refit |= _add(bins, (h.lon - lon0) * scale, (h.lat - lat0) * _M_PER_DEG, h.signal)
    # always from the prior (the steep-weighted mean): the likelihood has a mirror image across a
    # street, and a start at the previous fit would keep an early wrong side for good
    east, north = fit_position(bins, model) if refit else (0.0, 0.0)
    footprint = Footprint(
        tuple(
            (round(b[0] - east), round(b[1] - north), min(round(b[2]), MAX_BIN_COUNT), round(b[3] / b[2], 1))
            for b in bins
        )
    )
    return Placement(
        lat0 + north / _M_PER_DEG, lon0 + east / scale, footprint, round(_reach(bins, east, north), 1)
    )
