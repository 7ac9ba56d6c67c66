"""Accuracy: OpenLoc against a plain centroid and Ichnaea's algorithm on a simulated city.

Run: `python -m bench.accuracy [--size tiny|default|large] [--json out.json]`.
"""
