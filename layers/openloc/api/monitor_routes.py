"""Dockerflow monitoring endpoints: /__heartbeat__, /__lbheartbeat__, /__version__."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openloc import __version__
from openloc.api.responses import json_response
from openloc.api.schemas import (
    BackendStatus,
    GeoIpStatus,
    HeartbeatResponse,
    LbHeartbeatResponse,
    VersionResponse,
)
from openloc.api.services import Services
from openloc.observability import logger


def _timed(check: Callable[[], None]) -> BackendStatus:
    start = time.perf_counter()
    try:
        check()
    except Exception as error:
        logger.warning("heartbeat check failed", extra={"error": type(error).__name__})
        return BackendStatus(up=False, time=-1)
    return BackendStatus(up=True, time=round((time.perf_counter() - start) * 1000))


class MonitorEndpoints:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _ping_redis(self) -> None:
        client = self.services.redis()
        if client is None:
            raise RuntimeError("redis not configured")
        client.ping()

    def _geoip(self) -> GeoIpStatus:
        """Not configured (`GEOIP_PATH` empty): up null. Configured: up only when every file it
        names is in use (none at all, e.g. a failed S3 download, is down too)."""
        geoip = self.services.geoip
        if geoip is None and not self.services.settings.geoip_path.strip():
            return GeoIpStatus(up=None, time=-1)
        start = time.perf_counter()
        try:
            health = geoip.health() if geoip is not None else None
        except Exception as error:
            logger.warning(
                "heartbeat check failed", extra={"backend": "geoip", "error": type(error).__name__}
            )
            health = None
        if health is None:
            return GeoIpStatus(up=False, time=-1)
        oldest = health.oldest_build_epoch
        return GeoIpStatus(
            up=health.up,
            time=round((time.perf_counter() - start) * 1000) if health.up else -1,
            age_in_days=int((time.time() - oldest) // 86_400) if oldest is not None else None,
        )

    def _check(self) -> HeartbeatResponse:
        redis_status = (
            _timed(self._ping_redis) if self.services.settings.redis_url else BackendStatus(up=None, time=-1)
        )
        return HeartbeatResponse(
            database=_timed(self.services.database_ping), geoip=self._geoip(), redis=redis_status
        )

    async def heartbeat(self, _request: Request) -> Response:
        """200 when every configured backend answers; 503 naming the one that does not."""
        status = await run_in_threadpool(self._check)
        healthy = status.database.up is True and False not in (status.geoip.up, status.redis.up)
        return json_response(status.model_dump(mode="json"), 200 if healthy else 503)

    async def lbheartbeat(self, _request: Request) -> Response:
        return json_response(LbHeartbeatResponse(status="OK"))

    async def version(self, _request: Request) -> Response:
        settings = self.services.settings
        return json_response(
            VersionResponse(
                source=settings.openloc_source,
                version=__version__,
                commit=settings.openloc_commit,
                build=settings.openloc_build_time,
            )
        )
