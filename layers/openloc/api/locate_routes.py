"""Locate endpoints: /v1/geolocate, /v1/region (+ legacy /v1/country) and legacy /v1/search."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openloc.api.access import identify
from openloc.api.body import BodyLimits, read_json_object
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
from openloc.locate.query import Estimate, LocateQuery
from openloc.locate.service import LookupFailed, locate, region
from openloc.observability import logger, metrics

OUTPUT_DECIMALS = 7
# Methods that ask for the IP-based answer: no body is read.
IP_ONLY_METHODS = frozenset({"GET", "HEAD"})
T = TypeVar("T")


def _answer(call: Callable[[], T]) -> T:
    """Run a locate-service call; a station source that fails is a 503 (logged)."""
    try:
        return call()
    except LookupFailed as error:
        logger.error("station lookup failed", extra={"error": str(error)})
        raise service_unavailable() from error


class LocateEndpoints:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def _query(self, request: Request, permission: str, legacy: bool = False) -> LocateQuery:
        """Identity (key, or User-Agent under OPENLOC_KEY_POLICY=optional), limits, then the body
        (an empty body means `{}`: locate by IP). A GET (or HEAD) is that IP-only query whatever
        it carries, as in Ichnaea: same identity, limits (counted with the path's POSTs) and CORS."""
        settings = self.services.settings
        ip = client_ip(request, settings.trusted_proxy_hops)
        identity = await run_in_threadpool(
            identify,
            self.services.keys,
            settings,
            query_key(request),
            request.headers.get("user-agent"),
            permission,
            ip,
        )
        await run_in_threadpool(self.services.limiter.check, identity, request.url.path, ip)
        payload = (
            {}
            if request.method in IP_ONLY_METHODS
            else await read_json_object(request, BodyLimits.locate(settings), empty_is_object=True)
        )
        wire = (
            from_search(SearchRequest.model_validate(payload))
            if legacy
            else LocateRequest.model_validate(payload)
        )
        return build_query(wire, ip)

    def _locate(self, query: LocateQuery) -> Estimate | None:
        return locate(self.services.lookup, query, self.services.geoip)

    async def geolocate(self, request: Request) -> Response:
        query = await self._query(request, "allow_locate")
        estimate = await run_in_threadpool(_answer, partial(self._locate, query))
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
        choice = await run_in_threadpool(
            _answer, partial(region, self.services.lookup, query, self.services.geoip)
        )
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
        estimate = await run_in_threadpool(_answer, partial(self._locate, query))
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
