"""Lambda entry point for scheduled publishing jobs, invoked by EventBridge rules.

The job is named by the event's `detail.task`, or else by the rule name (`<prefix>-<task>`) in the
event's `resources`; see `openloc.schedules` for the jobs and their times. The job's clock is the
event's `time` (the scheduled time), so a retried invocation writes the same file; an operator
may re-run a missed hour with `{"detail": {"task": "cell_export_diff", "time": "…T13:05:00Z"}}`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from openloc.data.export_job import ExportResult, run_diff_export, run_full_export
from openloc.data.publish import PublishPolicy
from openloc.data.publish_job import run_publication
from openloc.data.publish_jobs import publish_stats, publish_tiles
from openloc.observability import logger, metrics, tracer
from openloc.schedules import SCHEDULES
from openloc.settings import get_settings
from openloc.store.aws import client
from openloc.store.cell_source import DynamoCellSource
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


def time_of(event: dict[str, Any]) -> datetime:
    """`detail.time`, else the event's `time`, else now (UTC)."""
    detail = event.get("detail") or {}
    for value in (detail.get("time") if isinstance(detail, dict) else None, event.get("time")):
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _report(task: str, result: ExportResult) -> dict[str, Any]:
    metrics.add_metric(name="CellExportsWritten", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="CellExportRows", unit=MetricUnit.Count, value=result.rows)
    logger.info("cell export written", extra={"task": task, "key": result.key, "rows": result.rows})
    return {"task": task, "key": result.key, "rows": result.rows, "size": result.size}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = task_of(event)
    if task is None:
        logger.error("unknown scheduled task", extra={"resources": event.get("resources")})
        raise ValueError("event names no known task")
    now = time_of(event)
    source = DynamoCellSource(client("dynamodb"), settings.stations_table)
    if task == "cell_export_full":
        result = run_full_export(
            client("s3"),
            settings.assets_bucket,
            source,
            now,
            min_samples=settings.cell_export_min_samples,
            segments=settings.cell_export_segments,
        )
        return _report(task, result)
    if task == "cell_export_diff":
        result = run_diff_export(
            client("s3"), settings.assets_bucket, source, now, min_samples=settings.cell_export_min_samples
        )
        return _report(task, result)
    if task == "station_publish":
        published = run_publication(
            client("s3"),
            settings.assets_bucket,
            now,
            PublishPolicy(
                settings.publish_min_samples, settings.publish_min_days, settings.cell_export_min_samples
            ),
        )
        metrics.add_metric(name="PublishedFiles", unit=MetricUnit.Count, value=len(published.files))
        logger.info(
            "station dumps and packs published",
            extra={"files": len(published.files), "deleted": published.deleted},
        )
        return {"task": task, "files": [f.path for f in published.files], "deleted": published.deleted}
    if task == "tiles":
        tiles = publish_tiles(settings, now)
        metrics.add_metric(name="TilesRendered", unit=MetricUnit.Count, value=tiles.rendered)
        metrics.add_metric(name="TilesWritten", unit=MetricUnit.Count, value=tiles.written)
        logger.info("coverage tiles published", extra={"result": tiles.__dict__})
        return {"task": task, **tiles.__dict__}
    if task == "stats":
        days = publish_stats(settings, now)
        logger.info("stats published", extra={"days": days})
        return {"task": task, "days": days}
    raise ValueError(f"task {task} has no implementation")
