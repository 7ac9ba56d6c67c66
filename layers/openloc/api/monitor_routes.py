"""Dockerflow monitoring endpoints: /__heartbeat__, /__lbheartbeat__, /__version__."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openloc import __version__
from openloc.api.responses import json_response
from openloc.api.schemas import BackendStatus, HeartbeatResponse, LbHeartbeatResponse, VersionResponse
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

    def _check(self) -> HeartbeatResponse:
        redis_status = (
            _timed(self._ping_redis) if self.services.settings.redis_url else BackendStatus(up=None, time=-1)
        )
        return HeartbeatResponse(database=_timed(self.services.database_ping), redis=redis_status)

    async def heartbeat(self, _request: Request) -> Response:
        """200 when every configured backend answers; 503 naming the one that does not."""
        status = await run_in_threadpool(self._check)
        healthy = status.database.up is True and status.redis.up is not False
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
