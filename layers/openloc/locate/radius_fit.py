"""Fitted coefficients of `locate.radius` (written by `python -m bench.accuracy.fit_radius`:
the training seed 1 of the profiles dense_city, suburb, rural_highway, moving_city; answers per source:
blue 271, cell 836, cell_area 800, wifi 3021). Do not edit by hand."""

# source → (coefficients of the feature vector, 95th percentile of the log residuals)
COEFFICIENTS: dict[str, tuple[tuple[float, ...], float]] = {
    "wifi": ((5.8657, 0.0145, 0.1502, -0.557, -0.0203, -0.1914, -0.4105), 1.173),
    "blue": ((2.4385, 0.063, 0.2996, -0.1675, -0.089, -0.05, -0.3036), 0.8711),
    "cell": ((0.9436, 0.1646, 0.6327, -1.1413), 1.0959),
    "cell_area": ((-0.7092, 0.1294, 0.0034), 0.6907),
}
