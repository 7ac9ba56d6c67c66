"""Fitted coefficients of `locate.radius` (written by `python -m bench.accuracy.fit_radius`)."""

# source → (coefficients of the feature vector, 95th percentile of the log residuals)
COEFFICIENTS: dict[str, tuple[tuple[float, ...], float]] = {
    "wifi": ((5.97, -0.01, -0.02, -0.63, -0.04, -0.11, -0.32, 0.61), 1.19),
    "blue": ((0.91, 0.15, 0.6, -0.28, -0.34, -0.07, -0.35, 0.25), 0.93),
    "cell": ((1.35, 0.25, 0.51, -1.15), 1.14),
    "cell_area": ((-0.5, 0.0, 0.0), 0.68),
}
