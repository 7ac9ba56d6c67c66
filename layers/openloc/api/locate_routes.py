"""Locate endpoints: /v1/geolocate, legacy /v1/search (region comes with the locate issue)."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openloc.api.body import read_json_object
from openloc.api.client_ip import client_ip
from openloc.api.errors import not_found, service_unavailable
from openloc.api.locate_query import build_query, from_search
from openloc.api.rate_limit import check_daily_limit
from openloc.api.responses import json_response
from openloc.api.schemas import GeolocateResponse, LatLng, LocateRequest, SearchRequest, SearchResponse
from openloc.api.services import Services
from openloc.locate.model import Estimate, KnownStation, LocateQuery
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


def locate(services: Services, query: LocateQuery) -> Estimate | None:
    """One BatchGetItem round for stations, one for areas only when no exact cell could answer."""
    try:
        stations = _known(services.stations.get_stations(query.station_keys))
        areas: dict[str, KnownStation] = {}
        if query.lacf and query.cells and not any(c.key in stations for s in query.cells for c in s.ids):
            areas = _known(services.stations.get_areas(query.area_keys))
    except Exception as error:
        logger.error("station lookup failed", extra={"error": type(error).__name__})
        raise service_unavailable() from error
    return search(query, stations, areas)


class LocateEndpoints:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def _payload(self, request: Request, permission: str) -> dict[str, object]:
        """Key check, daily limit, then the body (an empty body means `{}`: locate by IP)."""
        settings = self.services.settings
        record = await run_in_threadpool(
            self.services.keys.require, request.query_params.get("key"), permission
        )
        await run_in_threadpool(
            check_daily_limit, record, request.url.path, self.services.redis(), datetime.now(UTC)
        )
        return await read_json_object(request, limit=settings.locate_body_limit, empty_is_object=True)

    async def geolocate(self, request: Request) -> Response:
        payload = await self._payload(request, "allow_locate")
        query = build_query(
            LocateRequest.model_validate(payload),
            client_ip(request, self.services.settings.trusted_proxy_hops),
        )
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

    async def search(self, request: Request) -> Response:
        payload = await self._payload(request, "allow_locate")
        legacy = from_search(SearchRequest.model_validate(payload))
        query = build_query(legacy, client_ip(request, self.services.settings.trusted_proxy_hops))
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
        Route("/v1/search", endpoints.search, methods=["POST"]),
    ]
