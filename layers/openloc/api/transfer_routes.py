"""`POST /v1/transfer?key=`: instance sync, private to keys with `allow_transfer`.

The body is one batch of aggregated items (`openloc.model.exchange.TransferRequest`, docs/api.md);
it is merged synchronously (`openloc.ingest.transfer`) and answered `200 {}`. Unlike submissions
(where a stumbler must never see a 4xx for partly bad data), a transfer batch is all or nothing:
an invalid item rejects the batch with 400 naming the item, so the sender can fix and resend it
under the same batch id.

| case | code | domain / reason |
|---|---|---|
| missing, malformed or unknown key | 400 | usageLimits / keyInvalid |
| key without the transfer permission | 403 | usageLimits / transferNotAllowed |
| body not a JSON object | 400 | global / parseError |
| invalid item, unknown field, missing `batch` | 400 | global / invalidItems |
| over `TRANSFER_MAX_ITEMS` items (counted unvalidated) or a body limit | 413 | global / payloadTooLarge |
| stations kept changing, store down | 503 | global / serviceUnavailable (retry with the same batch id) |
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openloc.api.body import BodyLimits, read_json_object
from openloc.api.client_ip import client_ip
from openloc.api.errors import (
    ApiError,
    invalid_items,
    key_invalid,
    payload_too_large,
    service_unavailable,
    transfer_not_allowed,
)
from openloc.api.keys import query_key, redact, valid_key_syntax
from openloc.api.responses import json_response
from openloc.api.services import Services
from openloc.observability import logger, metrics


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"Invalid transfer batch: {where}: {first['msg']}{more}"


def _item_count(payload: dict[str, Any]) -> int:
    """Items of the batch's lists as sent (a list field that is not a list fails validation)."""
    return sum(len(v) for k in ("cells", "stations", "areas") if isinstance(v := payload.get(k), list))


class TransferEndpoint:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _check_key(self, key: str | None, ip: str | None) -> str:
        if not valid_key_syntax(key):
            raise key_invalid()
        assert key is not None
        record = self.services.keys.lookup(key, ip)
        if record is None:
            raise key_invalid()
        if not record.allow_transfer:
            raise transfer_not_allowed()
        return record.key

    async def transfer(self, request: Request) -> Response:
        settings = self.services.settings
        ip = client_ip(request, settings.trusted_proxy_hops)
        key = await run_in_threadpool(self._check_key, query_key(request), ip)
        payload = await read_json_object(request, BodyLimits.submit(settings), empty_is_object=False)
        # The item count is checked on the parsed lists, before any item is validated.
        if _item_count(payload) > settings.transfer_max_items:
            raise payload_too_large(f"more than {settings.transfer_max_items} items")
        from openloc.model.exchange import TransferRequest  # deferred: not on the locate import path

        try:
            batch = TransferRequest.model_validate(payload)
        except ValidationError as error:
            raise invalid_items(_describe(error)) from error
        processed = self.services.processed
        if processed is None:
            raise service_unavailable()
        from openloc.ingest.station_writes import ConflictError
        from openloc.ingest.transfer import merge_transfer

        try:
            result = await run_in_threadpool(
                merge_transfer, batch, self.services.stations, processed, datetime.now(UTC)
            )
        except ConflictError as error:
            logger.warning("transfer conflicted", extra={"batch": batch.batch, "key": redact(key)})
            raise service_unavailable() from error
        except ApiError:
            raise
        metrics.add_metric(name="TransferItems", unit=MetricUnit.Count, value=batch.size)
        metrics.add_metric(
            name="TransferStationsWritten", unit=MetricUnit.Count, value=result.stations_written
        )
        logger.info(
            "transfer merged",
            extra={
                "batch": batch.batch,
                "key": redact(key),
                "items": batch.size,
                "duplicate": result.duplicate,
                "stations_written": result.stations_written,
                "areas_written": result.areas_written,
                "changes": {str(k): v for k, v in result.changes.items()},
            },
        )
        return json_response({})
