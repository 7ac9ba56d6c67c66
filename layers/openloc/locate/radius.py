"""The accuracy radius: a 95 % circle predicted from the query, not a fixed width.

Each source describes its answer by a few features — how many stations it used, how far they lie
from the answer (their residual spread), how far each is typically heard (its reach), how strongly
the nearest is heard, how often the stations were observed, how surely each was placed (the shape
of its footprint) — and the radius is

    log(radius) = Σ f(feature) + q95 · width(features)

a model of the logarithm of the error (`locate.radius_model`: piecewise linear and monotone in each
feature; for Wi-Fi with a width of the residuals that depends on the answer), fitted by least
squares on the training seed of every simulated world profile (`python -m bench.accuracy.fit_radius`,
which writes `locate/radius_fit.py`), plus `q95`, the 95th percentile of the fit's scaled
residuals: the factor that turns a typical error into a 95 % circle. A cell-area answer's radius is
a multiple of the area's extent plus its cells' reach, widened for an area known from few cells
(`radius_model.AreaModel`, fitted on the same seed to cover 95 %). The fit is checked on other
seeds (docs/benchmarks.md). The radius is then clamped to the source's documented bounds
(`BOUNDS_M`, docs/api.md).

Why these features (docs/accuracy.md): the spread of the used stations measures how much they
disagree (and a wide cluster is a coarse answer); the reach is the scale of the distance between
the client and each station; more stations average more of that out; a strong nearest signal
means the client is next to a known station; stations seen only a few times are placed coarsely.
Wi-Fi answers have two more: a client whose nearest used network sounds farther away than the
used networks spread may stand outside their cluster, and one that hears many networks the answer
did not use (unknown to the database, or outside the chosen cluster) is somewhere less mapped.
A network heard along one street only (a footprint without breadth) may be on either side of it;
for Wi-Fi, one placed far from where it was heard, or whose levels do not fall off with the
distance from its position (misfit), is placed less surely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openloc.locate import radius_fit
from openloc.locate.query import Source

# The documented bounds of the radius per source (docs/api.md), metres.
BOUNDS_M: dict[Source, tuple[float, float]] = {
    Source.WIFI: (10.0, 500.0),
    Source.BLUE: (10.0, 100.0),
    Source.CELL: (100.0, 50_000.0),
    Source.CELL_AREA: (500.0, 500_000.0),
}


# How far the strongest signal suggests the nearest used network is (`MacFeatures.vector`): a
# typical network heard at NEAR_LEVEL_DBM from 1 m, falling by 10·n dB per tenfold distance (n of
# the Wi-Fi station fit, `aggregate.footprint`). Only where that distance passes the spread does
# it count, so the constant sets where; −25 to −40 dBm and n = 2.5–3 fit about as well.
NEAR_LEVEL_DBM = -32.0
PATH_LOSS_EXPONENT = 2.5


# Metres added to a footprint's breadth and offset before their log (`MacFeatures`), as to the spread.
SHAPE_FLOOR_M = 5.0


def log_shape(metres: float) -> float:
    return math.log(metres + SHAPE_FLOOR_M)


@dataclass(frozen=True, slots=True)
class MacFeatures:
    """A Wi-Fi or Bluetooth answer: networks used; their spread around the answer (the weighted RMS
    of their residual distances); their (weighted mean) reach; the strongest signal heard; the
    fewest samples of a used network and the weighted mean of log(samples); how many networks the
    engine was given but did not use; the shape of the used networks' footprints
    (`Footprint.shape`, weighted means): `log_shape` of the breadth and of the offset, and the
    misfit (dB)."""

    networks: int
    spread_m: float
    reach_m: float
    strongest_dbm: float
    samples: int
    log_samples: float
    unused: int = 0
    log_breadth: float = math.log(SHAPE_FLOOR_M)
    log_offset: float = math.log(SHAPE_FLOOR_M)
    misfit_db: float = 0.0

    def vector(self, source: Source) -> tuple[float, ...]:
        """The model's features. Wi-Fi adds the log of the larger of the spread and the distance
        the strongest signal suggests and the log of 1 + the unused networks; both sources then
        have the footprints' breadth, and Wi-Fi their offset and misfit. For Bluetooth the others
        did not generalise to the evaluation seeds (docs/accuracy.md)."""
        base = (
            1.0,
            math.log(self.spread_m + 5.0),
            math.log(self.reach_m + 5.0),
            math.log(self.networks),
            (self.strongest_dbm + 80.0) / 10.0,
            math.log(max(self.samples, 1)),
            self.log_samples,
        )
        if source is not Source.WIFI:
            return (*base, self.log_breadth)
        log_nearest = (NEAR_LEVEL_DBM - self.strongest_dbm) / (10.0 * PATH_LOSS_EXPONENT) * math.log(10.0)
        client = (max(log_nearest, base[1]), math.log1p(self.unused))
        return (*base, *client, self.log_breadth, self.log_offset, self.misfit_db / 5.0)


@dataclass(frozen=True, slots=True)
class CellFeatures:
    """An exact-cell answer: cells used, their (weighted RMS) spread around the answer, and their
    (weighted mean) radius, the extent of where each was heard."""

    cells: int
    spread_m: float
    reach_m: float

    def vector(self) -> tuple[float, ...]:
        return (1.0, math.log(self.spread_m + 50.0), math.log(self.reach_m + 50.0), math.log(self.cells))


@dataclass(frozen=True, slots=True)
class AreaFeatures:
    """A cell-area answer: the area's extent (centre to the farthest corner of its cells' box),
    its cells' mean radius, how many positioned cells it has."""

    radius_m: float
    cell_radius_m: float
    cells: int


def _clamped(source: Source, radius_m: float) -> float:
    low, high = BOUNDS_M[source]
    return min(max(radius_m, low), high)


def predict(source: Source, vector: tuple[float, ...]) -> float:
    """The fitted 95 % radius for a feature vector, clamped to the source's bounds."""
    return _clamped(source, math.exp(min(radius_fit.MODELS[source.value].log_radius(vector), 30.0)))


def mac_radius(source: Source, features: MacFeatures) -> float:
    return predict(source, features.vector(source))


def cell_radius(features: CellFeatures) -> float:
    return predict(Source.CELL, features.vector())


def predict_area(features: AreaFeatures) -> float:
    """The fitted 95 % radius of a cell-area answer, clamped to the bounds of cell areas."""
    return _clamped(
        Source.CELL_AREA,
        radius_fit.AREA_MODEL.radius(features.radius_m, features.cell_radius_m, features.cells),
    )


def area_radius(features: AreaFeatures) -> float:
    return predict_area(features)
