"""Monitoring: CloudWatch alarms on what breaks users or loses data, and one dashboard.

Alarms (thresholds from context, defaults below) notify an SNS topic; `openloc:alarm_email`
subscribes an address to it.

    Api5xxRate          share of API responses that are 5xx > 1 % over 5 minutes (3 of 3)
    ApiLatencyP99       p99 end-to-end API latency > 1 000 ms over 5 minutes (3 of 3)
    DeadLetters         any message in the observations DLQ (data waiting for a redrive)
    QueueAge            oldest queued observation older than 15 minutes (aggregation behind)
    AggregateErrors     aggregator invocations failing (not single reported items) > 0 in 5 min
    <Fn>Throttles       throttled locate/submit invocations > 0 in 5 minutes (2 of 3)

Powertools metrics (namespace OpenLoc) are on the dashboard next to the AWS service metrics.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.api import Api
from infra.compute import METRICS_NAMESPACE
from infra.context import int_context, str_context

ALARM_EMAIL_CONTEXT = "openloc:alarm_email"
ERROR_RATE_CONTEXT = "openloc:alarm_5xx_percent"
LATENCY_CONTEXT = "openloc:alarm_p99_latency_ms"
QUEUE_AGE_CONTEXT = "openloc:alarm_queue_age_seconds"
DEFAULT_ERROR_RATE_PERCENT = 1
DEFAULT_P99_LATENCY_MS = 1000
DEFAULT_QUEUE_AGE_SECONDS = 900
PERIOD = cdk.Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: Api,
        functions: Mapping[str, lambda_.Function],
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # A customer-managed key: CloudWatch cannot publish to a topic under the AWS-managed SNS key.
        self.key = kms.Key(
            self,
            "AlarmTopicKey",
            description="OpenLoc alarm topic encryption",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        self.topic = sns.Topic(
            self, "AlarmTopic", display_name="OpenLoc alarms", master_key=self.key, enforce_ssl=True
        )
        email = str_context(self, ALARM_EMAIL_CONTEXT)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        requests = api.metric_requests()
        server_errors = api.metric_server_errors()
        error_rate = cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={"errors": server_errors, "requests": requests},
            period=PERIOD,
            label="5xx %",
        )
        self._alarm(
            "Api5xxRate",
            error_rate,
            threshold=int_context(self, ERROR_RATE_CONTEXT, DEFAULT_ERROR_RATE_PERCENT),
            evaluation_periods=3,
            description="More than the allowed share of API responses are 5xx",
        )
        latency_p99 = api.metric_latency("p99")
        self._alarm(
            "ApiLatencyP99",
            latency_p99,
            threshold=int_context(self, LATENCY_CONTEXT, DEFAULT_P99_LATENCY_MS),
            evaluation_periods=3,
            description="API p99 latency above target",
        )
        dead_letters = dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=PERIOD, statistic="Maximum"
        )
        self._alarm(
            "DeadLetters",
            dead_letters,
            threshold=0,
            evaluation_periods=1,
            description="Observations in the DLQ: inspect, fix, redrive (docs/operations.md)",
        )
        queue_age = queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum")
        self._alarm(
            "QueueAge",
            queue_age,
            threshold=int_context(self, QUEUE_AGE_CONTEXT, DEFAULT_QUEUE_AGE_SECONDS),
            evaluation_periods=2,
            description="Aggregation is falling behind the submissions",
        )
        self._alarm(
            "AggregateErrors",
            functions["aggregate"].metric_errors(period=PERIOD, statistic="Sum"),
            threshold=0,
            evaluation_periods=1,
            description="Aggregator invocations failed as a whole",
        )
        for name in ("locate", "submit"):
            self._alarm(
                f"{name.capitalize()}Throttles",
                functions[name].metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=0,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                description=(
                    f"{name} invocations throttled: raise the account concurrency, API throttling "
                    "or (function URLs) openloc:api_concurrency"
                ),
            )

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"{stack.stack_name}-overview"
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API requests", left=[requests], right=[error_rate], width=8),
            cloudwatch.GraphWidget(
                title="API latency",
                left=[
                    api.metric_latency("p50"),
                    latency_p99,
                    api.metric_backend_latency("p99"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Observations queue",
                left=[queue.metric_approximate_number_of_messages_visible(period=PERIOD), dead_letters],
                right=[queue_age],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function duration p99",
                left=[fn.metric_duration(period=PERIOD, statistic="p99") for fn in functions.values()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function errors and throttles",
                left=[fn.metric_errors(period=PERIOD, statistic="Sum") for fn in functions.values()],
                right=[fn.metric_throttles(period=PERIOD, statistic="Sum") for fn in functions.values()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Pipeline (Powertools metrics)",
                left=[
                    cloudwatch.Metric(
                        namespace=METRICS_NAMESPACE,
                        metric_name=name,
                        dimensions_map={"service": "openloc"},
                        period=PERIOD,
                        statistic="Sum",
                    )
                    for name in (
                        "SubmitReportsAccepted",
                        "AggregatedReports",
                        "AggregatedObservations",
                        "StationsWritten",
                    )
                ],
                width=8,
            ),
        )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        evaluation_periods: int,
        description: str,
        datapoints_to_alarm: int | None = None,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"OpenLoc: {description}",
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms[name] = alarm
