"""Accuracy: OpenLoc against a plain centroid, Ichnaea's algorithm, the previous engine and an
oracle on simulated worlds (`bench.world.PROFILES`, docs/accuracy.md).

Run: `python -m bench.accuracy [--size profiles|tiny|default|large] [--json out.json]`;
`python -m bench.accuracy.fit_radius` refits the radius model on the training seed.
"""
