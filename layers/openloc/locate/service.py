"""The locate service: one query → the best estimate (or region), whatever the stations' source.

`locate` and `region` serve the online API (`api.locate_routes`, stations from DynamoDB through
`RecordLookup`) and the offline engine (`openloc offline locate`, stations from a pack file) with
the same code: only the `StationLookup` differs, and offline there is no GeoIP database.

Cost per query, strongest first: every station read is paid (DynamoDB on-demand reads), and a
phone sends ~20 Wi-Fi networks and a few cells of which a handful settle the answer. So the first
lookup asks only for the `FIRST_ROUND_WIFIS` strongest Wi-Fi networks; when the engine answers
from them with at least `SETTLED_MIN_USED` agreeing networks (`settled`), that is the answer and
nothing else is read. Otherwise a second lookup reads the rest of the query (other Wi-Fi,
Bluetooth, cells; a third only for hashed identifiers) and the engine answers from everything, as
if asked at once; an area lookup follows only when cells were sent, the cell-area fallback is
allowed and no exact cell is known. docs/benchmarks.md measures the keys read per query and the
accuracy with and without the first round (`staged=False`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from openloc.locate.hashed import merge_signals
from openloc.locate.lookup import StationLookup
from openloc.locate.query import Estimate, KnownStation, LocateQuery, MacSignal, Source
from openloc.locate.region import RegionChoice, candidates_from_mccs, choose_region
from openloc.locate.searcher import search

if TYPE_CHECKING:
    from openloc.locate.geoip import GeoIpDatabase

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


# The first round of a staged lookup: this many of the strongest Wi-Fi networks...
FIRST_ROUND_WIFIS = 4
# ...settle the answer when the engine's Wi-Fi estimate from them uses at least this many.
SETTLED_MIN_USED = 3


def _strength(signal: MacSignal) -> int:
    return signal.signal if signal.signal is not None else -200


def first_round(query: LocateQuery) -> LocateQuery | None:
    """The strongest Wi-Fi networks of `query` alone (by MAC or by published identifier), or None
    when a first round would not read less than the whole query."""
    candidates = [(w, False) for w in query.wifis] + [(w, True) for w in query.hashed_wifis]
    if len(candidates) < SETTLED_MIN_USED:
        return None
    strongest = sorted(candidates, key=lambda c: -_strength(c[0]))[:FIRST_ROUND_WIFIS]
    if len(strongest) == len(candidates) and not (query.blues or query.cells or query.hashed_blues):
        return None
    return LocateQuery(
        wifis=tuple(w for w, hashed in strongest if not hashed),
        hashed_wifis=tuple(w for w, hashed in strongest if hashed),
        lacf=False,
        ipf=False,
    )


def settled(estimate: Estimate | None) -> bool:
    """A first-round answer that more networks would not overturn: Wi-Fi, from enough agreeing
    networks (an exact cell could still veto a Wi-Fi answer far outside it; the strongest networks
    agreeing with each other is what makes that unlikely)."""
    return estimate is not None and estimate.source is Source.WIFI and len(estimate.used) >= SETTLED_MIN_USED


def _read(lookup: StationLookup, query: LocateQuery) -> tuple[LocateQuery, dict[str, KnownStation]]:
    try:
        return lookup.stations(query)
    except Exception as error:
        raise LookupFailed(type(error).__name__) from error


def _areas(
    lookup: StationLookup, query: LocateQuery, stations: dict[str, KnownStation]
) -> dict[str, KnownStation]:
    if not (query.lacf and query.cells) or any(c.key in stations for s in query.cells for c in s.ids):
        return {}
    try:
        return lookup.areas(query)
    except Exception as error:
        raise LookupFailed(type(error).__name__) from error


def locate(
    lookup: StationLookup,
    query: LocateQuery,
    geoip: GeoIpDatabase | None = None,
    *,
    use_geoip: bool = True,
    staged: bool = True,
) -> Estimate | None:
    """The best estimate for `query` (GeoIP last, when allowed and nothing else answered).

    `staged`: strongest networks first (module doc); False reads the whole query at once."""
    first = first_round(query) if staged else None
    stations: dict[str, KnownStation] = {}
    if first is not None:
        resolved, stations = _read(lookup, first)
        estimate = search(resolved, stations, {}, None)
        if settled(estimate):
            return estimate
        rest, more = _read(
            lookup,
            replace(
                query,
                wifis=tuple(w for w in query.wifis if w not in first.wifis),
                hashed_wifis=tuple(w for w in query.hashed_wifis if w not in first.hashed_wifis),
            ),
        )
        # The whole query again: the client's networks in its order, then those resolved from
        # published identifiers (in either round).
        from_hashed = [w for w in resolved.wifis if w not in first.wifis]
        query = replace(rest, wifis=merge_signals(query.wifis, [*from_hashed, *rest.wifis]))
        stations |= more
    else:
        query, stations = _read(lookup, query)
    areas = _areas(lookup, query, stations)
    fallback = (lambda: geoip_estimate(geoip, query.client_ip)) if use_geoip and geoip is not None else None
    return search(query, stations, areas, fallback)


def region(
    lookup: StationLookup, query: LocateQuery, geoip: GeoIpDatabase | None = None
) -> RegionChoice | None:
    """MCCs first (no lookup needed when they are unambiguous), then a located position, then GeoIP."""
    from openloc.geo.regions import region_for_position, regions_for_mcc

    candidates = candidates_from_mccs(
        regions_for_mcc(c.mcc) for signal in query.cells for c in signal.ids[:1]
    )
    if len(candidates) == 1:
        return choose_region(candidates, None, None)
    position_region = None
    if query.wifis or query.blues or query.cells:
        estimate = locate(lookup, query, use_geoip=False)
        if estimate is not None:
            found = region_for_position(estimate.lat, estimate.lon)
            position_region = found.code if found is not None else None
    geoip_region = None
    if position_region is None and query.ipf and geoip is not None and query.client_ip:
        answer = geoip.lookup(query.client_ip)
        geoip_region = answer.country_code if answer is not None else None
    return choose_region(candidates, position_region, geoip_region)
