"""Lambda entry point for the scheduled jobs, invoked by EventBridge rules (`openloc.jobs.registry`).

The event names its job (`detail.task`, or the rule name in `resources`); the job's clock is the
event's scheduled `time`, so a retried invocation writes the same files. An operator may re-run
a missed hour with `{"detail": {"task": "cell_export_diff", "time": "…T13:05:00Z"}}`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from openloc.jobs.registry import job_time, schedule_for
from openloc.jobs.stores import JobStores
from openloc.observability import logger, metrics, tracer
from openloc.settings import get_settings

stores = JobStores.from_settings(get_settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)  # no answer in traces (docs/privacy.md)
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    # An operator's hand-made event may carry only `detail`: read every field leniently.
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    resources = event.get("resources") or []
    schedule = schedule_for(detail, resources)
    if schedule is None:
        logger.error("unknown scheduled task", extra={"resources": resources})
        raise ValueError("event names no known task")
    result = schedule.run(stores, job_time(detail, event.get("time")))
    for name, value in result.metrics.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info("job finished", extra={"task": result.task, "result": result.summary})
    return {"task": result.task, **result.summary}
