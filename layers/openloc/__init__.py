"""OpenLoc: an open, self-hostable geolocation service (successor of Mozilla's Ichnaea)."""

__version__ = "0.1.0"
