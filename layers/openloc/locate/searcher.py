"""The searcher: ask every source, prefer the most accurate answer that agrees with the others."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from openloc.geo.distance import haversine_m
from openloc.locate.cell_source import locate_cell_areas, locate_cells
from openloc.locate.mac_source import BLUE, WIFI, locate_macs
from openloc.locate.query import Estimate, KnownStation, LocateQuery


def search(
    query: LocateQuery,
    stations: Mapping[str, KnownStation],
    areas: Mapping[str, KnownStation],
    geoip: Callable[[], Estimate | None] | None = None,
) -> Estimate | None:
    """Best estimate for a query given the stations (and areas) the database knows.

    `geoip` is asked last (and only then), when no station answered and the query allows `ipf`.
    A Wi-Fi/Bluetooth answer that lies outside the exact-cell answer's circle loses to the cell
    answer: the client cannot be outside the cell it is connected to.
    """
    cell = locate_cells(query.cells, stations)
    for estimate in (locate_macs(query.blues, stations, BLUE), locate_macs(query.wifis, stations, WIFI)):
        if estimate is None:
            continue
        if cell is None or haversine_m(estimate.lat, estimate.lon, cell.lat, cell.lon) <= cell.accuracy:
            return estimate
    if cell is not None:
        return cell
    if query.lacf:
        area = locate_cell_areas(query.cells, areas, query.area_cells)
        if area is not None:
            return area
    if query.ipf and geoip is not None:
        return geoip()
    return None
