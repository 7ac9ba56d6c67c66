"""Fitted coefficients of `locate.radius` (written by `python -m bench.accuracy.fit_radius`)."""

# source → (coefficients of the feature vector, 95th percentile of the log residuals)
COEFFICIENTS: dict[str, tuple[tuple[float, ...], float]] = {
    "wifi": ((0.0, 0.5, 0.5, 0.0, 0.0, 0.0), 0.75),
    "blue": ((0.0, 0.5, 0.5, 0.0, 0.0, 0.0), 0.75),
    "cell": ((0.0, 0.0, 1.0, 0.0), 0.0),
    "cell_area": ((0.0, 1.0, 0.0, 0.0), 0.0),
}
