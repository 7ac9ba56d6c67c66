"""Fitted coefficients of `locate.radius` (written by `python -m bench.accuracy.fit_radius`:
the training seed 1 of the profiles dense_city, suburb, rural_highway, moving_city; answers per source:
blue 296, cell 856, cell_area 801, wifi 2948). Do not edit by hand."""

# source → (coefficients of the feature vector, 95th percentile of the log residuals)
COEFFICIENTS: dict[str, tuple[tuple[float, ...], float]] = {
    "wifi": ((7.6994, -0.3653, -0.066, -0.4644, -0.1935, -0.17, -0.3723, 0.7371), 1.1263),
    "blue": ((0.4054, 0.1764, 0.7389, -0.1176, -0.3282, -0.0076, -0.4414, 0.2302), 0.8617),
    "cell": ((1.3316, 0.2484, 0.5129, -1.1462), 1.1577),
    "cell_area": ((-0.7176, 0.1331, 0.0103), 0.6933),
}
