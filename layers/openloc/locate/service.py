"""The locate service: one query → the best estimate (or region), whatever the stations' source.

`locate` and `region` serve the online API (`api.locate_routes`, stations from DynamoDB through
`RecordLookup`) and the offline engine (`openloc offline locate`, stations from a pack file) with
the same code: only the `StationLookup` differs, and offline there is no GeoIP database.

Cost per query, strongest first: every station read is paid (DynamoDB on-demand reads), and a
phone sends ~20 Wi-Fi networks and a few cells of which the nearest settle the answer. So the first
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
FIRST_ROUND_WIFIS = 8
# ...settle the answer when the engine's estimate from what was read uses at least this many.
SETTLED_MIN_USED = 3
SETTLING_SOURCES = frozenset({Source.WIFI, Source.BLUE})
# Before reading, the instance's cache may already settle the answer from the strongest this many
# Wi-Fi networks (the nearer the network, the better it places the client), when at least
# `CACHED_MIN_USED` of them are cached and agree. Each network carries its own station error, so
# an answer from only three places the client worse (training seed, dense city phone stream
# behind the cache: median 33 m when three may answer, 27 m with five at 3.1 keys per query, 26 m
# and 3.4 keys without this shortcut).
CACHED_WINDOW = FIRST_ROUND_WIFIS
CACHED_MIN_USED = 5


def _strength(signal: MacSignal) -> int:
    return signal.signal if signal.signal is not None else -200


def rounds(query: LocateQuery) -> list[LocateQuery]:
    """The parts of `query` a staged lookup reads one after the other: the strongest Wi-Fi
    networks (by MAC or by published identifier), then the other Wi-Fi and the Bluetooth
    networks, then the cells. Empty parts are left out, and so is a split after which too few
    networks were read to settle anything (a small query is one read)."""
    ranked = sorted(
        [(w, False) for w in query.wifis] + [(w, True) for w in query.hashed_wifis],
        key=lambda c: -_strength(c[0]),
    )
    split = FIRST_ROUND_WIFIS if len(ranked) >= SETTLED_MIN_USED else 0
    parts = []
    if split:
        first = ranked[:split]
        parts.append(
            LocateQuery(
                wifis=tuple(w for w, hashed in first if not hashed),
                hashed_wifis=tuple(w for w, hashed in first if hashed),
                lacf=False,
                ipf=False,
            )
        )
    other = ranked[split:]
    if other or query.blues or query.hashed_blues:
        parts.append(
            LocateQuery(
                wifis=tuple(w for w, hashed in other if not hashed),
                hashed_wifis=tuple(w for w, hashed in other if hashed),
                blues=query.blues,
                hashed_blues=query.hashed_blues,
                lacf=False,
                ipf=False,
            )
        )
    if query.cells:
        macs = len(ranked) + len(query.blues) + len(query.hashed_blues)
        if macs >= SETTLED_MIN_USED or not parts:
            parts.append(LocateQuery(cells=query.cells, lacf=False, ipf=False))
        else:  # nothing read before the cells could settle: read them together
            parts[-1] = replace(parts[-1], cells=query.cells)
    return parts


def settled(estimate: Estimate | None, min_used: int = SETTLED_MIN_USED) -> bool:
    """An answer that reading more of the query would not overturn: Wi-Fi or Bluetooth, from at
    least `min_used` agreeing networks. (An exact cell could still veto a Wi-Fi answer far outside it; the
    strongest networks agreeing with each other is what makes that unlikely, and the accuracy
    benchmark measures it: docs/benchmarks.md, "Reads per locate call".)"""
    return estimate is not None and estimate.source in SETTLING_SOURCES and len(estimate.used) >= min_used


def _read(lookup: StationLookup, query: LocateQuery) -> tuple[LocateQuery, dict[str, KnownStation]]:
    try:
        return lookup.stations(query)
    except Exception as error:
        raise LookupFailed(type(error).__name__) from error


def _areas(
    lookup: StationLookup, query: LocateQuery, stations: dict[str, KnownStation]
) -> dict[str, KnownStation]:
    no_exact_cell = not any(c.key in stations for s in query.cells for c in s.ids)
    if not (query.lacf and (query.cells or query.area_cells) and no_exact_cell):
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

    `staged`: strongest networks first, cells last (module doc); False reads the query at once."""
    parts = rounds(query) if staged else []
    if parts and CACHED_WINDOW:
        # What the instance's cache already holds (neighbours name the same networks) may settle
        # the answer from the strongest networks before anything is read.
        window = LocateQuery(
            wifis=tuple(sorted(query.wifis, key=lambda w: -_strength(w))[:CACHED_WINDOW]),
            lacf=False,
            ipf=False,
        )
        cached = lookup.cached(window)
        # (the window's networks the cache does not hold count as not used in the radius, as
        # unknown ones would: such an answer's circle may be a little wider than after a read)
        if len(cached) >= CACHED_MIN_USED:
            estimate = search(window, cached, {}, None)
            if settled(estimate, CACHED_MIN_USED):
                return estimate
    if len(parts) < 2:
        query, stations = _read(lookup, query)
    else:
        stations = {}
        so_far = LocateQuery(lacf=False, ipf=False)
        from_hashed: dict[str, list[MacSignal]] = {"wifis": [], "blues": []}
        for index, part in enumerate(parts):
            resolved, more = _read(lookup, part)
            stations |= more
            from_hashed["wifis"] += [w for w in resolved.wifis if w not in part.wifis]
            from_hashed["blues"] += [b for b in resolved.blues if b not in part.blues]
            so_far = replace(
                so_far,
                wifis=so_far.wifis + resolved.wifis,
                blues=so_far.blues + resolved.blues,
                cells=so_far.cells + resolved.cells,
                hashed_wifis=so_far.hashed_wifis + resolved.hashed_wifis,
                hashed_blues=so_far.hashed_blues + resolved.hashed_blues,
            )
            if index < len(parts) - 1:
                estimate = search(so_far, stations, {}, None)
                if settled(estimate):
                    return estimate
        # Everything was read: the whole query, as if asked at once (the client's networks in its
        # order, then those resolved from published identifiers; the unresolved ones stay).
        query = replace(
            query,
            wifis=merge_signals(query.wifis, from_hashed["wifis"]),
            blues=merge_signals(query.blues, from_hashed["blues"]),
            hashed_wifis=so_far.hashed_wifis,
            hashed_blues=so_far.hashed_blues,
        )
    areas = _areas(lookup, query, stations)
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
