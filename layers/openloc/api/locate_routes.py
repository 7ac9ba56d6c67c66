"""Locate endpoints: /v1/geolocate, /v1/region (+ legacy /v1/country) and legacy /v1/search."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openloc.api.access import identify
from openloc.api.body import read_json_object
from openloc.api.client_ip import client_ip
from openloc.api.errors import not_found, service_unavailable
from openloc.api.keys import query_key
from openloc.api.locate_query import build_query, from_search
from openloc.api.responses import json_response
from openloc.api.schemas import (
    GeolocateResponse,
    LatLng,
    LocateRequest,
    RegionResponse,
    SearchRequest,
    SearchResponse,
)
from openloc.api.services import Services
from openloc.locate.hashed import alias_targets, resolve_hashed
from openloc.locate.model import Estimate, KnownStation, LocateQuery, Source
from openloc.locate.region import RegionChoice, candidates_from_mccs, choose_region
from openloc.locate.searcher import search
from openloc.observability import logger, metrics
from openloc.store.records import StationRecord

OUTPUT_DECIMALS = 7


def _known(records: dict[str, StationRecord]) -> dict[str, KnownStation]:
    return {
        key: KnownStation(key, r.lat, r.lon, float(r.radius or 0), max(r.samples, 1))
        for key, r in records.items()
        if r.lat is not None and r.lon is not None
    }


def _geoip_estimate(services: Services, query: LocateQuery) -> Estimate | None:
    if services.geoip is None or query.client_ip is None:
        return None
    answer = services.geoip.lookup(query.client_ip)
    if answer is None:
        return None
    return Estimate(
        answer.lat, answer.lon, answer.accuracy_m, Source.GEOIP, score=0.3 if answer.city else 0.1
    )


def locate(services: Services, query: LocateQuery, *, use_geoip: bool = True) -> Estimate | None:
    """One BatchGetItem round for stations (a second one only for networks sent by hashed
    identifier), one for areas only when no exact cell could answer."""
    try:
        records = services.stations.get_stations(query.station_keys + query.alias_keys)
        if query.alias_keys:  # hashed identifiers: alias items name the stations (a second round)
            aliases = {key: records[key] for key in query.alias_keys if key in records}
            missing = [key for key in alias_targets(aliases) if key not in records]
            if missing:
                records = records | services.stations.get_stations(missing)
            query = resolve_hashed(query, aliases, records)
        stations = _known(records)
        areas: dict[str, KnownStation] = {}
        if query.lacf and query.cells and not any(c.key in stations for s in query.cells for c in s.ids):
            areas = _known(services.stations.get_areas(query.area_keys))
    except Exception as error:
        logger.error("station lookup failed", extra={"error": type(error).__name__})
        raise service_unavailable() from error
    return search(query, stations, areas, (lambda: _geoip_estimate(services, query)) if use_geoip else None)


def region(services: Services, query: LocateQuery) -> RegionChoice | None:
    """MCCs first (no database needed when they are unambiguous), then a located position, then GeoIP."""
    from openloc.geo.regions import region_for_position, regions_for_mcc

    candidates = candidates_from_mccs(
        regions_for_mcc(c.mcc) for signal in query.cells for c in signal.ids[:1]
    )
    if len(candidates) == 1:
        return choose_region(candidates, None, None)
    position_region = None
    if query.wifis or query.blues or query.cells:
        estimate = locate(services, query, use_geoip=False)
        if estimate is not None:
            found = region_for_position(estimate.lat, estimate.lon)
            position_region = found.code if found is not None else None
    geoip_region = None
    if position_region is None and query.ipf:
        answer = services.geoip.lookup(query.client_ip) if services.geoip and query.client_ip else None
        geoip_region = answer.country_code if answer is not None else None
    return choose_region(candidates, position_region, geoip_region)


class LocateEndpoints:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def _query(self, request: Request, permission: str, legacy: bool = False) -> LocateQuery:
        """Identity (key, or User-Agent under OPENLOC_KEY_POLICY=optional), limits, then the body
        (an empty body means `{}`: locate by IP)."""
        settings = self.services.settings
        identity = await run_in_threadpool(
            identify,
            self.services.keys,
            settings,
            query_key(request),
            request.headers.get("user-agent"),
            permission,
        )
        ip = client_ip(request, settings.trusted_proxy_hops)
        await run_in_threadpool(self.services.limiter.check, identity, request.url.path, ip)
        payload = await read_json_object(request, limit=settings.locate_body_limit, empty_is_object=True)
        wire = (
            from_search(SearchRequest.model_validate(payload))
            if legacy
            else LocateRequest.model_validate(payload)
        )
        return build_query(wire, ip)

    async def geolocate(self, request: Request) -> Response:
        query = await self._query(request, "allow_locate")
        estimate = await run_in_threadpool(locate, self.services, query)
        if estimate is None:
            metrics.add_metric(name="LocateNotFound", unit=MetricUnit.Count, value=1)
            raise not_found()
        metrics.add_metric(name=f"LocateHit_{estimate.source}", unit=MetricUnit.Count, value=1)
        return json_response(
            GeolocateResponse(
                location=LatLng(
                    lat=round(estimate.lat, OUTPUT_DECIMALS), lng=round(estimate.lon, OUTPUT_DECIMALS)
                ),
                accuracy=round(estimate.accuracy, 1),
                fallback=estimate.fallback,
            )
        )

    async def region(self, request: Request) -> Response:
        from openloc.geo.regions import region_by_code

        query = await self._query(request, "allow_region")
        choice = await run_in_threadpool(region, self.services, query)
        found = region_by_code(choice.code) if choice is not None else None
        if choice is None or found is None:
            metrics.add_metric(name="RegionNotFound", unit=MetricUnit.Count, value=1)
            raise not_found()
        metrics.add_metric(name="RegionHit", unit=MetricUnit.Count, value=1)
        # Countries rarely change under a client: let it reuse the answer (its own cache only,
        # `private`, since the answer depends on the caller's IP and body). Errors carry no hint.
        max_age = self.services.settings.region_cache_seconds
        return json_response(
            RegionResponse(country_code=found.code, country_name=found.name, fallback=choice.fallback),
            headers={"Cache-Control": f"private, max-age={max_age}"} if max_age > 0 else None,
        )

    async def search(self, request: Request) -> Response:
        query = await self._query(request, "allow_locate", legacy=True)
        estimate = await run_in_threadpool(locate, self.services, query)
        if estimate is None:
            return json_response(SearchResponse(status="not_found"))
        return json_response(
            SearchResponse(
                status="ok",
                lat=round(estimate.lat, OUTPUT_DECIMALS),
                lon=round(estimate.lon, OUTPUT_DECIMALS),
                accuracy=round(estimate.accuracy, 1),
                fallback=estimate.fallback,
            )
        )


def locate_routes(services: Services) -> list[Route]:
    endpoints = LocateEndpoints(services)
    return [
        Route("/v1/geolocate", endpoints.geolocate, methods=["POST"]),
        Route("/v1/region", endpoints.region, methods=["POST"]),
        Route("/v1/country", endpoints.region, methods=["POST"]),
        Route("/v1/search", endpoints.search, methods=["POST"]),
    ]
