"""Lambda entry point for the aggregator: SQS batch of report messages → openloc.ingest.pipeline.

Each SQS record is processed on its own; a failing record is reported in `batchItemFailures`
(ReportBatchItemFailures) so only it is redelivered, and after the queue's maxReceiveCount it
lands in the dead-letter queue. Redeliveries are idempotent (see openloc.ingest.pipeline).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from openloc.aggregate.station_update import UpdatePolicy
from openloc.ingest.pipeline import PipelineStores, content_id, parse_message, process_reports
from openloc.observability import logger, metrics, tracer
from openloc.settings import get_settings

settings = get_settings()
stores = PipelineStores.from_settings(settings)
processor = BatchProcessor(event_type=EventType.SQS)


def _first_received(record: SQSRecord) -> datetime | None:
    stamp = record.attributes.approximate_first_receive_timestamp
    return datetime.fromtimestamp(int(stamp) / 1000, UTC) if stamp else None


POLICY = UpdatePolicy(optout_hold_days=settings.optout_hold_days)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> None:
    reports = parse_message(record.body)
    result = process_reports(
        reports,
        stores,
        datetime.now(UTC),
        message_id=record.message_id,
        received=_first_received(record),
        policy=POLICY,
        content_id=content_id(record.body),
    )
    if result.duplicate:
        metrics.add_metric(name="DuplicateMessages", unit=MetricUnit.Count, value=1)
        return
    metrics.add_metric(name="AggregatedReports", unit=MetricUnit.Count, value=result.reports)
    metrics.add_metric(name="AggregatedObservations", unit=MetricUnit.Count, value=result.observations)
    metrics.add_metric(name="StationsWritten", unit=MetricUnit.Count, value=result.stations_written)
    for change, count in result.changes.items():
        metrics.add_metric(name=f"Station_{change}", unit=MetricUnit.Count, value=count)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)  # no answer in traces (docs/privacy.md)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
