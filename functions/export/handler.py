"""Lambda entry point for scheduled publishing jobs, invoked by EventBridge rules.

The job is named by the event's `detail.task`, or else by the rule name (`<prefix>-<task>`) in the
event's `resources`; see `openloc.schedules` for the jobs and their times.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from openloc.data.export_job import run_full_export
from openloc.data.publish import PublishPolicy
from openloc.data.publish_job import run_publication
from openloc.observability import logger, metrics, tracer
from openloc.schedules import SCHEDULES
from openloc.settings import get_settings
from openloc.store.aws import client
from openloc.store.models import bind_models

settings = get_settings()
bind_models(settings)
TASKS = {schedule.task for schedule in SCHEDULES}


def task_of(event: dict[str, Any]) -> str | None:
    detail = event.get("detail") or {}
    if isinstance(detail, dict) and detail.get("task") in TASKS:
        return str(detail["task"])
    for arn in event.get("resources") or []:
        rule = str(arn).rsplit("/", 1)[-1]
        for task in TASKS:
            if rule.endswith(task) or rule.endswith(task.replace("_", "-")):
                return task
    return None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = task_of(event)
    if task is None:
        logger.error("unknown scheduled task", extra={"resources": event.get("resources")})
        raise ValueError("event names no known task")
    now = datetime.now(UTC)
    if task == "cell_export_full":
        key = run_full_export(client("s3"), settings.assets_bucket, now)
        metrics.add_metric(name="CellExportsWritten", unit=MetricUnit.Count, value=1)
        logger.info("cell export written", extra={"key": key})
        return {"task": task, "key": key}
    if task == "station_publish":
        result = run_publication(
            client("s3"),
            settings.assets_bucket,
            now,
            PublishPolicy(settings.publish_min_samples, settings.publish_min_days),
        )
        metrics.add_metric(name="PublishedFiles", unit=MetricUnit.Count, value=len(result.files))
        logger.info(
            "station dumps and packs published", extra={"files": len(result.files), "deleted": result.deleted}
        )
        return {"task": task, "files": [f.path for f in result.files], "deleted": result.deleted}
    raise ValueError(f"task {task} has no implementation")
