"""Fit the radius model of `openloc.locate.radius` and write `openloc/locate/radius_fit.py`.

Run: `python -m bench.accuracy.fit_radius [--check]`. For every profile of `bench.world.PROFILES`,
the world of the *training* seed (`TRAIN_SEED`) is generated and aggregated with the service's
pipeline, and its held-out queries are located with the service's engine. Every answer's feature
vector (what `locate.radius.predict` is given) is recorded with its true error; per source, a
least-squares fit of log(error) on the features gives the coefficients, and the 95th percentile
of the fit's residuals the offset that turns the predicted typical error into a 95 % circle.
The cell answers bound the Wi-Fi ones (`locate.searcher`), so the fit runs twice: the second
pass sees the first pass's cell radii. The evaluation seeds are never used here: the benchmark
(`python -m bench.accuracy`) checks the fitted model on them.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
from openloc.geo.distance import haversine_m
from openloc.locate import radius
from openloc.locate import radius_fit as fitted
from openloc.locate.lookup import RecordLookup
from openloc.locate.query import Source
from openloc.locate.service import locate

from bench.accuracy.engines import parsed
from bench.accuracy.feed import feed
from bench.world import PROFILES, TRAIN_SEED, Query, Radios, generate_world, make_queries, survey_uploads

TARGET = Path(radius.__file__).with_name("radius_fit.py")
KINDS = ("wifi", "wifi_cell", "ble", "cell", "cell_area", "moved_ap", "mobile_ap")
# errors below this are measured as this (a log of 0 m is undefined; GPS truth itself is ±few m)
ERROR_FLOOR_M = {"wifi": 3.0, "blue": 2.0, "cell": 20.0, "cell_area": 100.0}
QUANTILE = 0.95

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


def fit(samples: list[Sample]) -> tuple[tuple[float, ...], float]:
    x = np.array([v for v, _, _ in samples])
    y = np.log(np.array([e for _, e, _ in samples])) - np.array([o for _, _, o in samples])
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ coefficients
    return tuple(round(float(c), 4) for c in coefficients), round(float(np.quantile(residuals, QUANTILE)), 4)


def write(model: dict[str, tuple[tuple[float, ...], float]], counts: dict[str, int]) -> None:
    lines = [
        '"""Fitted coefficients of `locate.radius` (written by `python -m bench.accuracy.fit_radius`:',
        f"the training seed {TRAIN_SEED} of the profiles {', '.join(PROFILES)}; answers per source:",
        f'{", ".join(f"{k} {v}" for k, v in sorted(counts.items()))}). Do not edit by hand."""',
        "",
        "# source → (coefficients of the feature vector, 95th percentile of the log residuals)",
        "COEFFICIENTS: dict[str, tuple[tuple[float, ...], float]] = {",
    ]
    lines += [
        f'    "{source}": ({coefficients!r}, {q95!r}),' for source, (coefficients, q95) in model.items()
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
        model = dict(fitted.COEFFICIENTS)
        for source, rows in samples.items():
            model[source] = fit(rows)
        fitted.COEFFICIENTS.update(model)
    write(
        {s: fitted.COEFFICIENTS[s] for s in ("wifi", "blue", "cell", "cell_area")},
        {s: len(r) for s, r in samples.items()},
    )
    for source, rows in samples.items():
        coefficients, q95 = fitted.COEFFICIENTS[source]
        inside = sum(
            math.log(e) <= o + sum(c * x for c, x in zip(coefficients, v, strict=True)) + q95
            for v, e, o in rows
        )
        print(
            f"{source}: {len(rows)} answers, {inside / len(rows):.1%} inside on the training seed (before clamping)"
        )


if __name__ == "__main__":
    main()
