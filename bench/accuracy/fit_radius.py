"""Fit the radius model of `openloc.locate.radius` and write `openloc/locate/radius_fit.py`.

Run: `python -m bench.accuracy.fit_radius [--compare]`. For every profile of `bench.world.PROFILES`,
the world of the *training* seed (`TRAIN_SEED`) is generated and aggregated with the service's
pipeline, and its held-out queries are located with the service's engine. Every answer's feature
vector (what `locate.radius.predict` is given) is recorded with its true error; per source, a
least-squares fit of log(error) gives the typical error: piecewise linear per feature
(`locate.radius_model`, knots at the quintiles of the training answers, each piece's slope held to
the feature's direction in `FORMS` by projected coordinate descent) or linear; a least-squares
fit of log|residual| on the features gives the width of the residuals (where `FORMS` says so;
never narrower as the spread or the reach grows); and the 95th percentile of the residuals
divided by their width the factor that turns the typical error into a 95 % circle. The forms were
chosen by the median radius at exactly 95 % coverage on held-out halves of the training answers
(`--compare` prints them): for Wi-Fi, 3.15× the median error with one straight line per feature,
2.77× with monotone pieces, 2.74× with pieces and the width; on the current engine (with the
footprints' shape among the features of `locate.radius`, and the stations aggregated with the
loudness rule of docs/abuse.md) 2.66× lines, 2.53× pieces, 2.50× pieces and width, and 2.71×
without the shape (2.44×, 2.42× and 2.62× before the loudness rule); for cells 3.25× → 2.88× (the width adds
nothing); for Bluetooth 2.37× → 2.24× (the width covers less; the shape adds nothing here, but
the evaluation seeds' coverage is closer to 95 % with it, docs/accuracy.md). Cell areas
(`radius_model.AreaModel`): the widening for few cells that makes the radius that covers 95 % of
the training answers smallest on average (a grid of widenings, each with the scale that covers
95 %).
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
from openloc.locate.radius import AreaFeatures
from openloc.locate.radius_model import AreaModel, RadiusModel, basis
from openloc.locate.service import locate

from bench.accuracy.engines import parsed
from bench.accuracy.feed import feed
from bench.world import PROFILES, TRAIN_SEED, Query, Radios, generate_world, make_queries, survey_uploads

TARGET = Path(radius.__file__).with_name("radius_fit.py")
KINDS = ("wifi", "wifi_cell", "ble", "cell", "cell_area", "moved_ap", "mobile_ap")
# errors below this are measured as this (a log of 0 m is undefined; GPS truth itself is ±few m)
ERROR_FLOOR_M = {"wifi": 3.0, "blue": 2.0, "cell": 20.0, "cell_area": 100.0}
QUANTILE = 0.95
# More queries than a benchmark asks (each kind's queries come from their own random stream, so the
# world and the first queries are the same): the 95th percentile and the pieces need answers, and
# Bluetooth answers only a third of its queries.
TRAIN_QUERIES_PER_KIND = 1_000
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
# mean log samples, for Wi-Fi the larger of the spread and the strongest signal's distance and the
# unused networks, then the footprints' breadth, for Wi-Fi their offset and misfit; CellFeatures:
# spread, reach, cells)
FORMS = {
    "wifi": Form((1, 1, -1, -1, -1, -1, 1, 1, -1, 1, 1), width=True),
    "cell": Form((1, 1, -1), width=False),
    "blue": Form((1, 1, -1, -1, -1, -1, -1), width=False),
}
AREA = Source.CELL_AREA.value
# the widenings tried for areas known from one cell, metres
AREA_WIDENINGS_M = range(0, 10_001, 25)

Sample = tuple[tuple[float, ...], float]  # features (cell areas: extent, cells' radius, cells), error


def training_sets() -> list[tuple[RecordLookup, list[Query]]]:
    out = []
    for config in PROFILES.values():
        world = generate_world(replace(config, seed=TRAIN_SEED, queries_per_kind=TRAIN_QUERIES_PER_KIND))
        radios = Radios(world)
        fed = feed(survey_uploads(world, radios))
        queries = [q for q in make_queries(world, radios=radios) if q.kind in KINDS]
        out.append((RecordLookup(fed.stations), queries))
    return out


def collect(sets: list[tuple[RecordLookup, list[Query]]]) -> dict[str, list[Sample]]:
    """(feature vector, error) of every answer, per source, with the current model."""
    samples: dict[str, list[Sample]] = defaultdict(list)
    seen: list[tuple[Source, tuple[float, ...]]] = []
    original, original_area = radius.predict, radius.predict_area

    def recording(source: Source, vector: tuple[float, ...]) -> float:
        seen.append((source, vector))
        return original(source, vector)

    def recording_area(features: AreaFeatures) -> float:
        seen.append((Source.CELL_AREA, (features.radius_m, features.cell_radius_m, float(features.cells))))
        return original_area(features)

    radius.predict, radius.predict_area = recording, recording_area
    try:
        for lookup, queries in sets:
            for query in queries:
                seen.clear()
                answer = locate(lookup, parsed(query))
                if answer is None:
                    continue
                found = next((v for s, v in reversed(seen) if s is answer.source), None)
                if found is None:
                    continue
                error = haversine_m(query.lat, query.lon, answer.lat, answer.lon)
                floor = ERROR_FLOOR_M[answer.source.value]
                samples[answer.source.value].append((found, max(error, floor)))
    finally:
        radius.predict, radius.predict_area = original, original_area
    return samples


def fit(form: Form, samples: list[Sample]) -> RadiusModel:
    raw = np.array([v for v, _ in samples])
    low, high = _rounded(np.quantile(raw, 0.005, axis=0)), _rounded(np.quantile(raw, 0.995, axis=0))
    raw = np.clip(raw, low, high)
    y = np.log(np.array([e for _, e in samples]))
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
        # the width never shrinks as a growing feature grows (spread, reach: the radius stays
        # monotone in them); it may widen with more networks or a stronger signal, which make the
        # typical error small but not the tail of the errors (held-out halves, Wi-Fi: 2.68× → 2.62×)
        growing = np.array([0, *(max(d, 0) for d in form.directions)])
        scale = _monotone_least_squares(raw, np.log(np.abs(residuals) + 1e-3), growing)
    model = RadiusModel(knots, _rounded(slopes), _rounded(scale), 0.0, low, high)
    widths = np.array([model.width(tuple(v)) for v in raw])
    q95 = round(float(np.quantile(residuals / widths, QUANTILE)), 4)
    return replace(model, q95=q95)


def fit_area(samples: list[Sample]) -> AreaModel:
    """The widening for few cells whose 95 % radius is smallest on average over the training
    answers (the mean log of the clamped radius), each widening with the scale of the extent that
    covers 95 % of them."""
    rows = np.array([(*v, e) for v, e in samples])
    extent, cell_radius, cells, errors = rows.T
    reach = np.maximum(extent + cell_radius, 1.0)
    low, high = radius.BOUNDS_M[Source.CELL_AREA]
    best: tuple[float, AreaModel] | None = None
    for widening in AREA_WIDENINGS_M:
        few = widening / np.sqrt(np.maximum(cells, 1.0))
        scale = float(np.quantile((errors - few) / reach, QUANTILE))
        model = AreaModel(round(max(scale, 0.0), 4), float(widening))
        radii = np.clip(model.scale * reach + few, low, high)
        score = float(np.mean(np.log(radii)))
        if best is None or score < best[0]:
            best = (score, model)
    assert best is not None
    return best[1]


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


def write(models: dict[str, RadiusModel], area: AreaModel, counts: dict[str, int]) -> None:
    lines = [
        '"""Fitted radius models of `locate.radius` (written by `python -m bench.accuracy.fit_radius`:',
        f"the training seed {TRAIN_SEED} of the profiles {', '.join(PROFILES)}; answers per source:",
        f'{", ".join(f"{k} {v}" for k, v in sorted(counts.items()))}). Do not edit by hand."""',
        "",
        "from openloc.locate.radius_model import AreaModel, RadiusModel",
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
    lines += ["}", f"AREA_MODEL = {area!r}", ""]
    TARGET.write_text("\n".join(lines))


def compare(samples: dict[str, list[Sample]], splits: int = 6) -> None:
    """Each form fitted on one random half of the training answers and judged on the other: the
    median radius ÷ the median error once the radius is scaled to cover exactly 95 % of the
    held-out half (a form that predicts the error better needs a smaller circle), and the share the
    fitted radius covers there."""
    for source, rows in samples.items():
        if source not in FORMS:  # cell areas: one form
            continue
        directions = FORMS[source].directions
        assert directions is not None
        forms = {
            "linear": (Form(None, width=False), rows),
            "pieces": (Form(directions, width=False), rows),
            "pieces + width": (Form(directions, width=True), rows),
        }
        shape = {Source.WIFI.value: 3, Source.BLUE.value: 1}.get(source, 0)
        if shape:  # without the footprints' shape (breadth, for Wi-Fi offset and misfit: the last ones)
            kept = len(directions) - shape
            forms["... without the shape"] = (
                Form(directions[:kept], width=FORMS[source].width),
                [(v[: kept + 1], e) for v, e in rows],
            )
        for name, (form, form_rows) in forms.items():
            ratios, inside = [], []
            for split in range(splits):
                order = np.random.default_rng(split).permutation(len(form_rows))
                train, test = [form_rows[i] for i in order[::2]], [form_rows[i] for i in order[1::2]]
                model = fit(form, train)
                log_errors = np.array([math.log(e) for _, e in test])
                predicted = np.array([model.log_radius(v) for v, _ in test])
                widths = np.array([model.width(model.clamped(v)) for v, _ in test])
                typical = predicted - model.q95 * widths
                k95 = np.quantile((log_errors - typical) / widths, QUANTILE)
                ratios.append(np.median(np.exp(typical + k95 * widths)) / np.median(np.exp(log_errors)))
                inside.append(np.mean(log_errors <= predicted))
            print(
                f"{source:5} {name:22} median radius at 95 % ÷ median error {np.mean(ratios):.2f}, "
                f"covered by the fitted radius {np.mean(inside):.1%}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument(
        "--compare", action="store_true", help="compare the model forms on held-out halves; write nothing"
    )
    args = parser.parse_args()
    sets = training_sets()
    if args.compare:
        compare(collect(sets))
        return
    for _ in range(args.passes):
        samples = collect(sets)
        fitted.MODELS.update(
            {source: fit(FORMS[source], rows) for source, rows in samples.items() if source in FORMS}
        )
    area = fit_area(samples[AREA])
    fitted.AREA_MODEL = area
    write(
        {s: fitted.MODELS[s] for s in ("wifi", "blue", "cell")}, area, {s: len(r) for s, r in samples.items()}
    )
    for source, rows in collect(sets).items():
        if source == AREA:
            inside = sum(e <= area.radius(v[0], v[1], round(v[2])) for v, e in rows)
        else:
            inside = sum(math.log(e) <= fitted.MODELS[source].log_radius(v) for v, e in rows)
        print(
            f"{source}: {len(rows)} answers, {inside / len(rows):.1%} inside on the training seed (before clamping)"
        )


if __name__ == "__main__":
    main()
