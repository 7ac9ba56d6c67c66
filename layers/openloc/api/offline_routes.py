"""`GET /v1/offline/{region}`: the newest offline pack of a country (`DE`) or MCC (`mcc-262`).

Answers from the downloads manifest (`downloads.json` in the assets bucket, re-read at most once
a minute per process). Public data: no API key. An unknown region or a region without a pack is
a 404 error envelope (`global` / `notFound`, the message says which); a manifest that cannot be
read is a 503.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openloc.api.errors import ApiError, service_unavailable
from openloc.api.responses import json_response
from openloc.api.schemas import OfflinePackResponse
from openloc.api.services import Services
from openloc.observability import logger


def _not_found(message: str) -> ApiError:
    return ApiError(404, "global", "notFound", message)


class OfflineEndpoints:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def pack(self, request: Request) -> Response:
        from openloc.publish.offline import UnknownPackRegion, pack_region  # only this route needs it

        raw = str(request.path_params.get("region", ""))
        try:
            region = pack_region(raw)
        except UnknownPackRegion as error:
            raise _not_found(f"Not found: {error}") from error
        try:
            manifest = await run_in_threadpool(self.services.manifest)
        except Exception as error:
            logger.error("downloads manifest unreadable", extra={"error": type(error).__name__})
            raise service_unavailable() from error
        packs = [
            f for f in (manifest.files if manifest else []) if f.kind == "offline-pack" and f.region == region
        ]
        if not packs:
            raise _not_found(f"Not found: no offline pack for {region} yet")
        newest = max(packs, key=lambda f: (f.created, f.path))
        return json_response(
            OfflinePackResponse(
                region=region,
                path=newest.path,
                format=newest.format,
                size=newest.size,
                rows=newest.rows,
                sha256=newest.sha256,
                created=newest.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
