"""The searcher: fuse the sources into one answer.

- The exact cell bounds Wi-Fi and Bluetooth: the client is inside the cell it hears, so only
  network clusters inside the cell's circle are considered (a moved access point or a bus hotspot
  elsewhere cannot win), and when none is, the cell answers.
- Bluetooth answers when it agrees with Wi-Fi (lies within the Wi-Fi circle) or Wi-Fi has no
  answer: beacons are heard over tens of metres, access points over a hundred or more. When the two
  disagree, Wi-Fi (more networks, wider clusters) answers.
- Then the cell area (`lacf`), then GeoIP (`ipf`, asked last and only then).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from openloc.geo.distance import haversine_m
from openloc.locate.cell_source import locate_cell_areas, locate_cells
from openloc.locate.mac_source import BLUE, WIFI, MacSourceConfig, locate_macs
from openloc.locate.query import Estimate, KnownStation, LocateQuery, MacSignal


def search(
    query: LocateQuery,
    stations: Mapping[str, KnownStation],
    areas: Mapping[str, KnownStation],
    geoip: Callable[[], Estimate | None] | None = None,
) -> Estimate | None:
    """Best estimate for a query given the stations (and areas) the database knows.

    `geoip` is asked last (and only then), when no station answered and the query allows `ipf`.
    """
    cell = locate_cells(query.cells, stations) if query.cells else None
    wifi = _macs(query.wifis, query.hashed_wifis, stations, WIFI, cell)
    blue = _macs(query.blues, query.hashed_blues, stations, BLUE, cell)
    if blue is not None and (
        wifi is None or haversine_m(blue.lat, blue.lon, wifi.lat, wifi.lon) <= wifi.accuracy
    ):
        return blue
    if wifi is not None:
        return wifi
    if cell is not None:
        return cell
    if query.lacf and (query.cells or query.area_cells):
        area = locate_cell_areas(query.cells, areas, query.area_cells)
        if area is not None:
            return area
    if query.ipf and geoip is not None:
        return geoip()
    return None


def _macs(
    seen: Sequence[MacSignal],
    unresolved: Sequence[MacSignal],
    stations: Mapping[str, KnownStation],
    config: MacSourceConfig,
    bound: Estimate | None,
) -> Estimate | None:
    """One MAC source's answer; `unresolved`: the published identifiers of this kind the lookup
    could not resolve (each distinct one counts as a network the answer did not use)."""
    if not seen:
        return None
    return locate_macs(seen, stations, config, bound=bound, unresolved=len({h.mac for h in unresolved}))
