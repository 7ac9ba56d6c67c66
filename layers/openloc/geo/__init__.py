"""Geodesy helpers: distances, bounding boxes, region lookups."""
