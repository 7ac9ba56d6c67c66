"""The forms of the fitted radius models (`locate.radius`).

Wi-Fi, Bluetooth and exact cells (`RadiusModel`): the log of the 95 % radius as a function of an
answer's feature vector x (its first entry is the constant 1):

    log(radius) = Σ_i f_i(x_i) + q95 · exp(scale · x)

Each f_i is piecewise linear in its feature, with knots at quantiles of the training answers
(none: one straight line), and monotone in the direction the fit's `FORMS` give it (more spread or
more reach: never a smaller typical error; more networks, a stronger signal or more samples: never
a larger one). A straight line per feature (a linear model of log error) was not enough: the
error grows slowly with the spread of a tight cluster and fast with that of a wide one. The sum
is the typical log error of such an answer; `exp(scale · x)` how widely the log error varies
around it for such answers (all zeros: the same everywhere; it never narrows as the spread or the
reach grows, so the radius stays monotone in those two); `q95` the 95th percentile of the
residuals divided by that width, which turns the typical error into a 95 % circle.

Each feature is first clamped to the range the fit saw (`low`, `high`: its 0.5th and 99.5th
percentiles on the training answers), so that an answer unlike any in training gets the radius of
the nearest kind of answer the fit knows.

Cell areas (`AreaModel`): a client that hears a cell of an area is within the area's extent plus
that cell's reach of the area's centre, and an area known from few cells is larger than they
show, so

    radius = scale · (extent + cells' mean radius) + few_cells_m / √(positioned cells)

A model of the log error (as for exact cells) was the first form; it scaled the radius with the
extent alone, so an area known from one or two cells (a few hundred metres of extent) got a circle
of that size around a client that may be anywhere in the real area (training seed, highway:
18 % and 47 % of such answers inside; held-out seed 2: 6 %)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

# The width of the residuals stays within this factor of the typical width: the fit has seen no
# answers beyond it, and a width of 0 or infinity is never the truth.
WIDTH_BOUNDS = (0.25, 4.0)


def segments(value: float, knots: tuple[float, ...]) -> tuple[float, ...]:
    """How far `value` runs through each piece between the knots (the first piece: its signed
    distance below the first knot; without knots: the value itself)."""
    if not knots:
        return (value,)
    pieces = [min(value, knots[0]) - knots[0]]
    for low, high in itertools.pairwise(knots):
        pieces.append(min(max(value - low, 0.0), high - low))
    pieces.append(max(value - knots[-1], 0.0))
    return tuple(pieces)


def basis(vector: tuple[float, ...], knots: tuple[tuple[float, ...], ...]) -> tuple[float, ...]:
    """The constant, then every feature's pieces."""
    out = [vector[0]]
    for value, feature_knots in zip(vector[1:], knots, strict=True):
        out.extend(segments(value, feature_knots))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class RadiusModel:
    knots: tuple[tuple[float, ...], ...]  # per feature (not the constant)
    slopes: tuple[float, ...]  # the constant's coefficient, then one slope per piece
    scale: tuple[float, ...]
    q95: float
    low: tuple[float, ...]
    high: tuple[float, ...]

    def clamped(self, vector: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(min(max(x, lo), hi) for x, lo, hi in zip(vector, self.low, self.high, strict=True))

    def width(self, vector: tuple[float, ...]) -> float:
        exponent = sum(c * x for c, x in zip(self.scale, vector, strict=True))
        return min(max(math.exp(min(exponent, 30.0)), WIDTH_BOUNDS[0]), WIDTH_BOUNDS[1])

    def typical(self, vector: tuple[float, ...]) -> float:
        return sum(c * x for c, x in zip(self.slopes, basis(vector, self.knots), strict=True))

    def log_radius(self, vector: tuple[float, ...]) -> float:
        vector = self.clamped(vector)
        return self.typical(vector) + self.q95 * self.width(vector)


@dataclass(frozen=True, slots=True)
class AreaModel:
    scale: float  # of the extent plus the cells' mean radius
    few_cells_m: float  # the unknown part of an area known from one cell, shrinking as 1/√cells

    def radius(self, extent_m: float, cell_radius_m: float, cells: int) -> float:
        return self.scale * (extent_m + cell_radius_m) + self.few_cells_m / math.sqrt(max(cells, 1))
