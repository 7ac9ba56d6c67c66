"""Fit the radius model of `openloc.locate.radius` and write `openloc/locate/radius_fit.py`.

Run: `python -m bench.accuracy.fit_radius [--check]`. For every profile of `bench.world.PROFILES`,
the world of the *training* seed (`TRAIN_SEED`) is generated and aggregated with the service's
pipeline, and its held-out queries are located with the service's engine. Every answer's feature
vector (what `locate.radius.predict` is given) is recorded with its true error; per source, a
least-squares fit of log(error) gives the typical error: piecewise linear per feature
(`locate.radius_model`, knots at the quintiles of the training answers, each piece's slope held to
the feature's direction in `FORMS` by projected coordinate descent) or linear; a least-squares
fit of log|residual| on the features, held to the same directions, gives the width of the
residuals (where `FORMS` says so);
and the 95th percentile of the residuals divided by their width the factor that turns the typical
error into a 95 % circle. The forms were chosen by the median radius at exactly 95 % coverage on
held-out halves of the training answers: for Wi-Fi, 3.2× the median error with a linear model,
2.7× with monotone pieces, 2.4× with pieces and the width; for cells 2.9× → 2.8×; for
Bluetooth (271 training answers) pieces gained little and covered less on held-out answers.
The cell answers bound the Wi-Fi ones (`locate.searcher`), so the fit runs twice: the second
pass sees the first pass's cell radii. The evaluation seeds are never used here: the benchmark
(`python -m bench.accuracy`) checks the fitted model on them.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from openloc.geo.distance import haversine_m
from openloc.locate import radius
from openloc.locate import radius_fit as fitted
from openloc.locate.lookup import RecordLookup
from openloc.locate.query import Source
from openloc.locate.radius_model import RadiusModel, basis
from openloc.locate.service import locate

from bench.accuracy.engines import parsed
from bench.accuracy.feed import feed
from bench.world import PROFILES, TRAIN_SEED, Query, Radios, generate_world, make_queries, survey_uploads

TARGET = Path(radius.__file__).with_name("radius_fit.py")
KINDS = ("wifi", "wifi_cell", "ble", "cell", "cell_area", "moved_ap", "mobile_ap")
# errors below this are measured as this (a log of 0 m is undefined; GPS truth itself is ±few m)
ERROR_FLOOR_M = {"wifi": 3.0, "blue": 2.0, "cell": 20.0, "cell_area": 100.0}
QUANTILE = 0.95
KNOT_QUANTILES = (0.2, 0.4, 0.6, 0.8)
RIDGE = 1e-3  # per answer, on the slopes of the pieces
SWEEPS = 300  # of coordinate descent


@dataclass(frozen=True)
class Form:
    # per feature (not the constant): +1 the radius never shrinks as it grows, -1 never grows;
    # None: one straight line per feature, unconstrained
    directions: tuple[int, ...] | None
    width: bool  # a width of the residuals that depends on the answer


# features: see locate.radius (MacFeatures: spread, reach, networks, strongest, fewest samples,
# mean log samples; CellFeatures: spread, reach, cells)
FORMS = {
    "wifi": Form((1, 1, -1, -1, -1, -1), width=True),
    "cell": Form((1, 1, -1), width=False),
    "blue": Form(None, width=False),
    "cell_area": Form(None, width=False),
}

Sample = tuple[tuple[float, ...], float, float]  # features, error, fixed offset of the log radius


def training_sets() -> list[tuple[RecordLookup, list[Query]]]:
    out = []
    for config in PROFILES.values():
        world = generate_world(replace(config, seed=TRAIN_SEED))
        radios = Radios(world)
        fed = feed(survey_uploads(world, radios))
        queries = [q for q in make_queries(world, radios=radios) if q.kind in KINDS]
        out.append((RecordLookup(fed.stations), queries))
    return out


def collect(sets: list[tuple[RecordLookup, list[Query]]]) -> dict[str, list[Sample]]:
    """(feature vector, error) of every answer, per source, with the current model."""
    samples: dict[str, list[Sample]] = defaultdict(list)
    seen: list[tuple[Source, tuple[float, ...], float]] = []
    original = radius.predict

    def recording(source: Source, vector: tuple[float, ...], offset: float = 0.0) -> float:
        seen.append((source, vector, offset))
        return original(source, vector, offset)

    radius.predict = recording
    try:
        for lookup, queries in sets:
            for query in queries:
                seen.clear()
                answer = locate(lookup, parsed(query))
                if answer is None:
                    continue
                found = next(((v, o) for s, v, o in reversed(seen) if s is answer.source), None)
                if found is None:
                    continue
                error = haversine_m(query.lat, query.lon, answer.lat, answer.lon)
                floor = ERROR_FLOOR_M[answer.source.value]
                samples[answer.source.value].append((found[0], max(error, floor), found[1]))
    finally:
        radius.predict = original
    return samples


def fit(source: str, samples: list[Sample]) -> RadiusModel:
    form = FORMS[source]
    raw = np.array([v for v, _, _ in samples])
    low, high = _rounded(np.quantile(raw, 0.005, axis=0)), _rounded(np.quantile(raw, 0.995, axis=0))
    raw = np.clip(raw, low, high)
    y = np.log(np.array([e for _, e, _ in samples])) - np.array([o for _, _, o in samples])
    if form.directions is None:
        knots: tuple[tuple[float, ...], ...] = tuple(() for _ in range(raw.shape[1] - 1))
        x = np.array([basis(tuple(v), knots) for v in raw])
        slopes, *_ = np.linalg.lstsq(x, y, rcond=None)
    else:
        knots = tuple(
            _rounded(np.unique(np.quantile(raw[:, i], KNOT_QUANTILES))) for i in range(1, raw.shape[1])
        )
        x = np.array([basis(tuple(v), knots) for v in raw])
        signs = [0] + [d for d, k in zip(form.directions, knots, strict=True) for _ in range(len(k) + 1)]
        slopes = _monotone_least_squares(x, y, np.array(signs))
    residuals = y - x @ slopes
    scale = np.zeros(raw.shape[1])
    if form.width and form.directions is not None:
        # a width held to the same directions: the radius stays monotone in every feature
        scale = _monotone_least_squares(
            raw, np.log(np.abs(residuals) + 1e-3), np.array([0, *form.directions])
        )
    model = RadiusModel(knots, _rounded(slopes), _rounded(scale), 0.0, low, high)
    widths = np.array([model.width(tuple(v)) for v in raw])
    q95 = round(float(np.quantile(residuals / widths, QUANTILE)), 4)
    return replace(model, q95=q95)


def _monotone_least_squares(x: np.ndarray, y: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """min |y − x·c|² + RIDGE·n·|c|² (not on unsigned terms) with sign(c_j) = signs_j or 0 where
    signs_j ≠ 0: coordinate descent, each step projected onto its sign."""
    gram = x.T @ x / len(y) + RIDGE * np.diag((signs != 0).astype(float))
    target = x.T @ y / len(y)
    c = np.zeros(x.shape[1])
    for _ in range(SWEEPS):
        for j in range(len(c)):
            value = (target[j] - gram[j] @ c + gram[j, j] * c[j]) / gram[j, j]
            c[j] = max(value, 0.0) if signs[j] > 0 else min(value, 0.0) if signs[j] < 0 else value
    return c


def _rounded(values: np.ndarray) -> tuple[float, ...]:
    return tuple(round(float(c), 5) for c in values)


def write(models: dict[str, RadiusModel], counts: dict[str, int]) -> None:
    lines = [
        '"""Fitted radius models of `locate.radius` (written by `python -m bench.accuracy.fit_radius`:',
        f"the training seed {TRAIN_SEED} of the profiles {', '.join(PROFILES)}; answers per source:",
        f'{", ".join(f"{k} {v}" for k, v in sorted(counts.items()))}). Do not edit by hand."""',
        "",
        "from openloc.locate.radius_model import RadiusModel",
        "",
        "MODELS: dict[str, RadiusModel] = {",
    ]
    for source, model in models.items():
        lines += [
            f'    "{source}": RadiusModel(',
            f"        knots={model.knots!r},",
            f"        slopes={model.slopes!r},",
            f"        scale={model.scale!r},",
            f"        q95={model.q95!r},",
            f"        low={model.low!r},",
            f"        high={model.high!r},",
            "    ),",
        ]
    lines += ["}", ""]
    TARGET.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    sets = training_sets()
    for _ in range(args.passes):
        samples = collect(sets)
        fitted.MODELS.update({source: fit(source, rows) for source, rows in samples.items()})
    write(
        {s: fitted.MODELS[s] for s in ("wifi", "blue", "cell", "cell_area")},
        {s: len(r) for s, r in samples.items()},
    )
    for source, rows in collect(sets).items():
        model = fitted.MODELS[source]
        inside = sum(math.log(e) <= o + model.log_radius(v) for v, e, o in rows)
        print(
            f"{source}: {len(rows)} answers, {inside / len(rows):.1%} inside on the training seed (before clamping)"
        )


if __name__ == "__main__":
    main()
