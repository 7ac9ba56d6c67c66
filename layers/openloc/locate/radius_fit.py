"""Fitted coefficients of `locate.radius` (written by `python -m bench.accuracy.fit_radius`:
the training seed 1 of the profiles dense_city, suburb, rural_highway, moving_city; answers per source:
blue 271, cell 836, cell_area 800, wifi 3021). Do not edit by hand."""

# source → (coefficients of the feature vector, 95th percentile of the log residuals)
COEFFICIENTS: dict[str, tuple[tuple[float, ...], float]] = {
    "wifi": ((3.3325, 0.4065, 0.1736, -0.1069, -0.0689, -0.1332, -0.4728), 1.2346),
    "blue": ((2.438, 0.0621, 0.3002, -0.1657, -0.0895, -0.049, -0.3051), 0.8712),
    "cell": ((0.9436, 0.1646, 0.6327, -1.1413), 1.0959),
    "cell_area": ((-0.7092, 0.1294, 0.0034), 0.6907),
}
