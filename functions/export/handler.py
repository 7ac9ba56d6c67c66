"""Lambda entry point of the jobs: scheduled events (EventBridge) and state machine steps.

Two kinds of events:

- an EventBridge scheduled event (or an operator's `{"detail": {"task": …, "time": …}}`): the
  job's single run (`openloc.jobs.registry`); the job's clock is the event's scheduled `time`, so
  a retried invocation writes the same files;
- a phase event of a sharded job's state machine (`{"phase": "plan" | "shard" | "finish", "task":
  …}`, `openloc.jobs.sharding`): one step of that job.

The same code is deployed twice (infra/jobs.py): as the export function (reads the tables,
writes the buckets) and as the bulk function (a sharded import or replay writes the tables).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from openloc.jobs.registry import SHARDED_JOBS, job_time, schedule_for
from openloc.jobs.sharding import handle
from openloc.jobs.stores import JobStores
from openloc.observability import logger, metrics, tracer
from openloc.settings import get_settings

stores = JobStores.from_settings(get_settings())


def _count(values: dict[str, int]) -> None:
    for name, value in values.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)  # no answer in traces (docs/privacy.md)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "phase" in event:
        job = SHARDED_JOBS.get(str(event.get("task")))
        if job is None:
            logger.error("unknown sharded job", extra={"task": event.get("task")})
            raise ValueError("event names no known sharded job")
        answer = handle(job, stores, event)
        extra = {"task": job.task, "phase": event["phase"], "stage": event.get("stage")}
        if answer.get("done"):
            _count(job.result(answer["summary"]).metrics)
            logger.info("sharded job finished", extra={**extra, "result": answer["summary"]})
        else:
            logger.info("job step finished", extra={**extra, "answer": answer})
        return answer
    # An operator's hand-made event may carry only `detail`: read every field leniently.
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    resources = event.get("resources") or []
    schedule = schedule_for(detail, resources)
    if schedule is None:
        logger.error("unknown scheduled task", extra={"resources": resources})
        raise ValueError("event names no known task")
    result = schedule.run(stores, job_time(detail, event.get("time")))
    _count(result.metrics)
    logger.info("job finished", extra={"task": result.task, "result": result.summary})
    return {"task": result.task, **result.summary}
