"""Error, answer rate and calibration of one locator over a set of queries with ground truth."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from openloc.geo.distance import haversine_m

from bench.accuracy.engines import Answer
from bench.world import Query

CURVE_SCALES = tuple(round(0.1 * i, 1) for i in range(1, 31))  # radius × 0.1 … 3.0
TARGET = 0.95


def quantile(values: list[float], q: float) -> float:
    """Linear-interpolation quantile of a non-empty list (numpy's default)."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Tally:
    asked: int = 0
    errors: list[float] = field(default_factory=list)
    radii: list[float] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)

    def add(self, query: Query, answer: Answer | None) -> None:
        self.asked += 1
        if answer is None:
            return
        self.errors.append(haversine_m(query.lat, query.lon, answer.lat, answer.lon))
        self.radii.append(answer.accuracy)
        self.sources[answer.source] = self.sources.get(answer.source, 0) + 1

    def merge(self, other: Tally) -> None:
        self.asked += other.asked
        self.errors += other.errors
        self.radii += other.radii
        for source, count in other.sources.items():
            self.sources[source] = self.sources.get(source, 0) + count

    def summary(self) -> dict[str, Any]:
        answered = len(self.errors)
        out: dict[str, Any] = {
            "asked": self.asked,
            "answered": answered,
            "answer_rate": answered / self.asked if self.asked else 0.0,
            "sources": dict(sorted(self.sources.items())),
        }
        if not answered:
            return out
        ratios = [e / r if r > 0 else math.inf for e, r in zip(self.errors, self.radii, strict=True)]
        finite = [min(r, 1e6) for r in ratios]
        out.update(
            median_m=quantile(self.errors, 0.5),
            p90_m=quantile(self.errors, 0.9),
            p99_m=quantile(self.errors, 0.99),
            coverage=sum(r <= 1.0 for r in ratios) / answered,
            median_radius_m=quantile(self.radii, 0.5),
            # the radius scale that would make exactly 95 % of truths fall inside (1.0 = ideal)
            scale_for_95=quantile(finite, TARGET),
            curve=[[k, sum(r <= k for r in ratios) / answered] for k in CURVE_SCALES],
            error_quantiles=[round(quantile(self.errors, i / 100), 1) for i in range(101)],
        )
        out["radius_to_error"] = out["median_radius_m"] / max(out["median_m"], 1e-9)
        return out
