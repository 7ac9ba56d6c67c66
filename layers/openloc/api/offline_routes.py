"""`GET /v1/offline/{region}`: the newest offline pack of a country (`DE`) or MCC (`mcc-262`).

Answers from the downloads manifest (`downloads.json` in the assets bucket, re-read at most once
a minute per process). Public data: no API key. A dense region's pack is split into parts
(`publish.offline.newest_pack_parts`): the answer lists every part of the newest complete
generation in `parts`, and its top-level fields describe part 1, as before parts existed.

A region not spelled as one (`publish.offline.pack_region`: ASCII `DE`, `mcc-262`, `262`), an
unknown region or a region without a pack is a 404 error envelope (`global` / `notFound`, the
message says which); a manifest that cannot be read is a 503.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openloc.api.errors import ApiError, service_unavailable
from openloc.api.responses import json_response
from openloc.api.schemas import OfflinePackPart, OfflinePackResponse
from openloc.api.services import Services
from openloc.observability import logger


def _not_found(message: str) -> ApiError:
    return ApiError(404, "global", "notFound", message)


class OfflineEndpoints:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def pack(self, request: Request) -> Response:
        from openloc.publish import offline  # only this route needs it

        raw = str(request.path_params.get("region", ""))
        try:
            region = offline.pack_region(raw)
        except offline.UnknownPackRegion as error:
            raise _not_found(f"Not found: {error}") from error
        try:
            manifest = await run_in_threadpool(self.services.manifest)
        except Exception as error:
            logger.error("downloads manifest unreadable", extra={"error": type(error).__name__})
            raise service_unavailable() from error
        parts = offline.newest_pack_parts(manifest.files if manifest else [], region)
        if not parts:
            raise _not_found(f"Not found: no offline pack for {region} yet")
        first = parts[0].entry
        return json_response(
            OfflinePackResponse(
                region=region,
                path=first.path,
                format=first.format,
                size=first.size,
                rows=first.rows,
                sha256=first.sha256,
                created=first.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                parts=[
                    OfflinePackPart(
                        part=p.part,
                        path=p.entry.path,
                        size=p.entry.size,
                        rows=p.entry.rows,
                        sha256=p.entry.sha256,
                        bbox=list(p.bbox) if p.bbox is not None else None,
                    )
                    for p in parts
                ],
            )
        )
