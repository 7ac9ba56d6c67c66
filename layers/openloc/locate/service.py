"""The locate service: one query → the best estimate (or region), whatever the stations' source.

`locate` and `region` serve the online API (`api.locate_routes`, stations from DynamoDB through
`RecordLookup`) and the offline engine (`openloc offline locate`, stations from a pack file) with
the same code: only the `StationLookup` differs, and offline there is no GeoIP database.

Cost per query: one station lookup (a second only for hashed identifiers), one area lookup only
when cells were sent, the cell-area fallback is allowed and no exact cell is known.
"""

from __future__ import annotations

from openloc.locate.geoip import GeoIpDatabase
from openloc.locate.lookup import StationLookup
from openloc.locate.query import Estimate, KnownStation, LocateQuery, Source
from openloc.locate.region import RegionChoice, candidates_from_mccs, choose_region
from openloc.locate.searcher import search

# GeoIP scores: a city-level answer beats a country-level one when both exist.
CITY_SCORE, COUNTRY_SCORE = 0.3, 0.1


class LookupFailed(RuntimeError):
    """The station source could not answer (the API answers 503)."""


def geoip_estimate(geoip: GeoIpDatabase | None, client_ip: str | None) -> Estimate | None:
    """The GeoIP database's answer for the client's address, as an estimate."""
    if geoip is None or client_ip is None:
        return None
    answer = geoip.lookup(client_ip)
    if answer is None:
        return None
    score = CITY_SCORE if answer.city else COUNTRY_SCORE
    return Estimate(answer.lat, answer.lon, answer.accuracy_m, Source.GEOIP, score=score)


def _lookup(
    lookup: StationLookup, query: LocateQuery
) -> tuple[LocateQuery, dict[str, KnownStation], dict[str, KnownStation]]:
    try:
        query, stations = lookup.stations(query)
        areas: dict[str, KnownStation] = {}
        no_exact_cell = not any(c.key in stations for s in query.cells for c in s.ids)
        if query.lacf and (query.cells or query.area_cells) and no_exact_cell:
            areas = lookup.areas(query)
    except Exception as error:
        raise LookupFailed(type(error).__name__) from error
    return query, stations, areas


def locate(
    lookup: StationLookup, query: LocateQuery, geoip: GeoIpDatabase | None = None, *, use_geoip: bool = True
) -> Estimate | None:
    """The best estimate for `query` (GeoIP last, when allowed and nothing else answered)."""
    query, stations, areas = _lookup(lookup, query)
    fallback = (lambda: geoip_estimate(geoip, query.client_ip)) if use_geoip and geoip is not None else None
    return search(query, stations, areas, fallback)


def region(
    lookup: StationLookup, query: LocateQuery, geoip: GeoIpDatabase | None = None
) -> RegionChoice | None:
    """MCCs first (no lookup needed when they are unambiguous), then a located position, then GeoIP."""
    from openloc.geo.regions import region_for_position, regions_for_mcc

    mccs = [c.mcc for s in query.cells for c in s.ids[:1]]
    mccs += [a.mcc for s in query.area_cells for a in s.ids[:1]]
    candidates = candidates_from_mccs(regions_for_mcc(mcc) for mcc in mccs)
    if len(candidates) == 1:
        return choose_region(candidates, None, None)
    position_region = None
    if query.wifis or query.blues or query.cells or query.area_cells:
        estimate = locate(lookup, query, use_geoip=False)
        if estimate is not None:
            found = region_for_position(estimate.lat, estimate.lon)
            position_region = found.code if found is not None else None
    geoip_region = None
    if position_region is None and query.ipf and geoip is not None and query.client_ip:
        answer = geoip.lookup(query.client_ip)
        geoip_region = answer.country_code if answer is not None else None
    return choose_region(candidates, position_region, geoip_region)
