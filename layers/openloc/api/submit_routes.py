"""Submission endpoints: /v2/geosubmit, /v1/geosubmit and legacy /v1/submit.

A body that is not JSON (or not an object) is a 400 parseError and an oversized one a 413 (over a
size limit, more JSON values, reports or entries than the caps: `openloc.api.body`, `read_items`);
everything else answers success once the valid reports are durably in the queue — bad reports
and entries are dropped and counted, never answered with a 4xx. Queue failure → 503.

Before the body is read: without a valid submit key the address's per-minute limit, with one the
key's daily observation budget (`openloc.api.submit_limits`), each a 503 with Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openloc.api.body import BodyLimits, read_json_object
from openloc.api.client_ip import client_ip
from openloc.api.errors import ApiError, key_invalid, service_unavailable
from openloc.api.keys import key_digest, query_key, redact, valid_key_syntax
from openloc.api.responses import json_response
from openloc.api.schemas import GeosubmitRequest, GeosubmitV1Request, LegacySubmitRequest
from openloc.api.services import Services
from openloc.api.sources import submitter_tag
from openloc.api.submissions import (
    Outcome,
    ReportBuilder,
    SubmitLimits,
    from_geosubmit_v1,
    from_geosubmit_v2,
    from_legacy_submit,
    read_items,
)
from openloc.api.submit_limits import charge_key_budget, check_ip_limit, check_key_budget, retry_later
from openloc.model.records import ApiKeyRecord
from openloc.model.report import Report
from openloc.observability import logger, metrics
from openloc.store.queue import QueueUnavailable, ReportTooLarge


def observation_count(reports: list[Report]) -> int:
    """What a key's submit budget counts: the Wi-Fi, Bluetooth, cell and opt-out entries queued."""
    return sum(len(r.wifi) + len(r.bluetooth) + len(r.cells) + len(r.opted_out) for r in reports)


class SubmitEndpoints:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _api_key(self, request: Request, ip: str | None) -> ApiKeyRecord | None:
        """The submitter's key record when it is a known key allowed to submit (attribution and
        its budget); None for an anonymous submission."""
        key = query_key(request)
        if not valid_key_syntax(key):
            if self.services.settings.submit_requires_key:
                raise key_invalid()
            return None
        assert key is not None
        if self.services.settings.submit_requires_key:
            try:
                return self.services.keys.require(key, "allow_submit", ip)
            except ApiError as error:
                if error.status != 429:
                    raise
                # Too many unknown keys from this address: a submission is told to retry (5xx)
                raise retry_later("too many unknown API keys from this address", error.retry_after) from error
        try:
            record = self.services.keys.lookup(key, ip)
        except Exception:
            return None  # attribution is optional: never refuse data over it
        return record if record is not None and record.allow_submit else None

    def _limit(self, record: ApiKeyRecord | None, ip: str | None) -> str | None:
        """Apply the per-address limit or the key's budget; the key's digest (attribution)."""
        settings = self.services.settings
        hash_key = self.services.current_hash_key()
        counters = self.services.counter_store
        if record is None:
            check_ip_limit(counters, ip, settings.submit_ip_limit_per_minute, hash_key)
            return None
        # Reports carry a keyed digest of the submitter's key (attribution), never the key itself.
        attribution = key_digest(record.key, hash_key)
        check_key_budget(counters, attribution, record.maxsubmit)
        return attribution

    async def _accept(
        self,
        request: Request,
        wire: type[GeosubmitRequest | GeosubmitV1Request | LegacySubmitRequest],
        convert: Callable[[Any, ReportBuilder], Outcome],
    ) -> None:
        settings = self.services.settings
        ip = client_ip(request, settings.trusted_proxy_hops)
        record = await run_in_threadpool(self._api_key, request, ip)
        attribution = await run_in_threadpool(self._limit, record, ip)
        api_key = record.key if record is not None else None
        payload = await read_json_object(request, BodyLimits.submit(settings), empty_is_object=False)
        submitter = submitter_tag(ip, attribution, self.services.current_hash_key())
        builder = ReportBuilder(SubmitLimits(now=datetime.now(UTC)), attribution, submitter)
        # Items are validated one at a time as `convert` consumes them (413 over the caps).
        items = read_items(
            payload,
            wire,
            builder.outcome.dropped,
            max_items=settings.submit_max_items,
            max_entries=settings.submit_max_entries,
        )
        outcome = convert(items, builder)
        if outcome.reports:
            try:
                await run_in_threadpool(self._enqueue, outcome)
            except QueueUnavailable as error:
                logger.error(
                    "observation queue unavailable", extra={"error": str(error), "key": redact(api_key)}
                )
                raise service_unavailable() from error
            if record is not None and attribution is not None:
                await run_in_threadpool(
                    charge_key_budget,
                    self.services.counter_store,
                    attribution,
                    record.maxsubmit,
                    observation_count(outcome.reports),
                )
        for reason, count in outcome.dropped.items():
            metrics.add_metric(name=f"SubmitDropped_{reason}", unit=MetricUnit.Count, value=count)
        metrics.add_metric(name="SubmitReportsAccepted", unit=MetricUnit.Count, value=len(outcome.reports))
        logger.info(
            "submission accepted",
            extra={"reports": len(outcome.reports), "dropped": dict(outcome.dropped), "key": redact(api_key)},
        )

    def _enqueue(self, outcome: Outcome) -> None:
        """Queue the accepted reports. A report larger than a queue message on its own could never
        be sent: it is dropped and counted (`report_size`), the others are queued."""
        try:
            # One report's dict at a time: each is encoded for the queue as soon as it is made.
            self.services.queue.send(r.model_dump(mode="json", exclude_none=True) for r in outcome.reports)
        except ReportTooLarge as error:
            too_large = set(error.indexes)
            outcome.dropped["report_size"] += len(too_large)
            outcome.reports = [r for i, r in enumerate(outcome.reports) if i not in too_large]
            if outcome.reports:
                self.services.queue.send(
                    r.model_dump(mode="json", exclude_none=True) for r in outcome.reports
                )

    async def geosubmit_v2(self, request: Request) -> Response:
        await self._accept(request, GeosubmitRequest, from_geosubmit_v2)
        return json_response({})

    async def geosubmit_v1(self, request: Request) -> Response:
        await self._accept(request, GeosubmitV1Request, from_geosubmit_v1)
        return json_response({})

    async def submit_legacy(self, request: Request) -> Response:
        await self._accept(request, LegacySubmitRequest, from_legacy_submit)
        return Response(status_code=204)
