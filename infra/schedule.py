"""Schedule: one EventBridge rule per `openloc.jobs.registry.SCHEDULES` job.

A job with a sharded form starts its state machine (infra/jobs.py) with `{"time": <the event's
scheduled time>}`, so a retried start writes the same files; the others invoke the export
function with the scheduled event itself. With the context `openloc:sharded_jobs=false` every
rule invokes the export function (the single-run form of each job: for a small deployment that
wants no state machines; docs/deploy.md).

The rule is named `<stack name>-<task>`; the export handler reads its task from the rule name in
the event's `resources` (the event keeps EventBridge's scheduled-event shape, as the local
scheduler sends it).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from openloc.jobs.registry import SCHEDULES

# A job that failed to be delivered is retried, but not past the next hourly slot.
RETRY_ATTEMPTS = 2
MAX_EVENT_AGE = cdk.Duration.hours(1)
SHARDED_CONTEXT = "openloc:sharded_jobs"


def rule_name(stack_name: str, task: str) -> str:
    return f"{stack_name}-{task}"


class Schedule(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        export: lambda_.IFunction,
        state_machines: Mapping[str, sfn.IStateMachine] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = cdk.Stack.of(self).stack_name
        machines = state_machines or {}
        self.rules: dict[str, events.Rule] = {}
        for schedule in SCHEDULES:
            construct = "".join(part.capitalize() for part in schedule.task.split("_"))
            machine = machines.get(schedule.task)
            target: events.IRuleTarget
            if machine is not None:
                target = targets.SfnStateMachine(
                    machine,
                    input=events.RuleTargetInput.from_object({"time": events.EventField.time}),
                    retry_attempts=RETRY_ATTEMPTS,
                    max_event_age=MAX_EVENT_AGE,
                )
            else:
                target = targets.LambdaFunction(
                    export, retry_attempts=RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE
                )
            self.rules[schedule.task] = events.Rule(
                self,
                f"{construct}Rule",
                rule_name=rule_name(stack_name, schedule.task),
                description=schedule.description or schedule.task,
                schedule=events.Schedule.expression(schedule.cron),
                targets=[target],
            )
