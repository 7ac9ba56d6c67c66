"""Pipeline: the observations queue drives the aggregate function (docs/design.md §1).

Batches of `openloc:aggregate_batch_size` messages (default 10), gathered for up to
`openloc:aggregate_batching_window_seconds` (default 5 s); a failed record is reported on its own
(ReportBatchItemFailures) and goes to the DLQ after the queue's maxReceiveCount. Concurrency is
capped at `openloc:aggregate_concurrency` (default 5) so DynamoDB is not stampeded: by the event
source's maximum concurrency, so the poller never invokes more than that (a throttled SQS
invocation would count as a receive and push messages towards the DLQ), and by the same number of
reserved executions on the function (infra/compute.py), so other functions cannot starve it.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.context import int_context

BATCH_SIZE_CONTEXT = "openloc:aggregate_batch_size"
BATCHING_WINDOW_CONTEXT = "openloc:aggregate_batching_window_seconds"
CONCURRENCY_CONTEXT = "openloc:aggregate_concurrency"
DEFAULT_BATCH_SIZE = 10
DEFAULT_BATCHING_WINDOW_SECONDS = 5
DEFAULT_CONCURRENCY = 5
MIN_EVENT_SOURCE_CONCURRENCY = 2  # the lowest maximum concurrency an SQS event source accepts


@dataclass(frozen=True)
class PipelineSettings:
    batch_size: int = DEFAULT_BATCH_SIZE
    batching_window_seconds: int = DEFAULT_BATCHING_WINDOW_SECONDS
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_context(cls, scope: Construct) -> PipelineSettings:
        settings = cls(
            batch_size=int_context(scope, BATCH_SIZE_CONTEXT, DEFAULT_BATCH_SIZE),
            batching_window_seconds=int_context(
                scope, BATCHING_WINDOW_CONTEXT, DEFAULT_BATCHING_WINDOW_SECONDS
            ),
            concurrency=int_context(scope, CONCURRENCY_CONTEXT, DEFAULT_CONCURRENCY),
        )
        if settings.concurrency < MIN_EVENT_SOURCE_CONCURRENCY:
            raise ValueError(f"{CONCURRENCY_CONTEXT} must be ≥ {MIN_EVENT_SOURCE_CONCURRENCY}")
        return settings


class Pipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: sqs.IQueue,
        aggregate: lambda_.Function,
        settings: PipelineSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.event_source = event_sources.SqsEventSource(
            queue,
            batch_size=settings.batch_size,
            max_batching_window=cdk.Duration.seconds(settings.batching_window_seconds),
            report_batch_item_failures=True,
            max_concurrency=settings.concurrency,
        )
        aggregate.add_event_source(self.event_source)
