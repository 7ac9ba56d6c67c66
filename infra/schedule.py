"""Schedule: one EventBridge rule per `openloc.jobs.registry.SCHEDULES` job, invoking the export function.

The rule is named `<stack name>-<task>`; the export handler reads its task from the rule name in
the event's `resources` (the event keeps EventBridge's scheduled-event shape, as the local
scheduler sends it).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from openloc.jobs.registry import SCHEDULES

# A job that failed to be delivered is retried, but not past the next hourly slot.
RETRY_ATTEMPTS = 2
MAX_EVENT_AGE = cdk.Duration.hours(1)


def rule_name(stack_name: str, task: str) -> str:
    return f"{stack_name}-{task}"


class Schedule(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, export: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        stack_name = cdk.Stack.of(self).stack_name
        self.rules: dict[str, events.Rule] = {}
        for schedule in SCHEDULES:
            construct = "".join(part.capitalize() for part in schedule.task.split("_"))
            self.rules[schedule.task] = events.Rule(
                self,
                f"{construct}Rule",
                rule_name=rule_name(stack_name, schedule.task),
                description=schedule.description or schedule.task,
                schedule=events.Schedule.expression(schedule.cron),
                targets=[
                    targets.LambdaFunction(export, retry_attempts=RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE)
                ],
            )
