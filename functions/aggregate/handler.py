"""Lambda entry point for the aggregator: SQS batch of report messages → archive → stations.

Each SQS record is processed on its own; a failing record is reported in `batchItemFailures`
(ReportBatchItemFailures) so only it is redelivered, and after the queue's maxReceiveCount it
lands in the dead-letter queue. The archive object is named after the message id, so a
redelivered message overwrites its own archive object instead of adding a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from openloc.observability import logger, metrics, tracer
from openloc.pipeline import parse_message, process_reports
from openloc.settings import get_settings
from openloc.store.archive import S3Archive
from openloc.store.aws import client
from openloc.store.models import bind_models
from openloc.store.stations import DynamoStationStore

settings = get_settings()
bind_models(settings)
stations = DynamoStationStore()
archive = S3Archive(settings.archive_bucket, client("s3"))
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    reports = parse_message(record.body)
    result = process_reports(reports, stations, archive, datetime.now(UTC), name=record.message_id)
    metrics.add_metric(name="AggregatedReports", unit=MetricUnit.Count, value=result.reports)
    metrics.add_metric(name="AggregatedObservations", unit=MetricUnit.Count, value=result.observations)
    metrics.add_metric(name="StationsWritten", unit=MetricUnit.Count, value=result.stations_written)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
