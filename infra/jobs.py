"""Jobs: one Step Functions state machine per sharded job (`openloc.jobs.registry.SHARDED_JOBS`).

Every machine has the same shape, one block per stage of the job (`openloc.jobs.sharding`):

    Plan <stage>    Lambda: lists the stage's shards into s3://<archive>/jobs/<task>/<run>/…/items.json
    Shards <stage>  Distributed Map: ItemReader = that JSON array, one child execution per item
                    (Lambda: the shard), at most the stage's MaxConcurrency at once, no tolerated
                    failure; child results go to jobs/<task>/map-results/ (ResultWriter)
    Finish <stage>  Lambda: reduces the shards' results; the last stage's summary is the output

The Lambda is the export function (reads the tables, writes the buckets), or the bulk function
for the jobs that write the tables (a sharded import or replay). Each phase event carries the
execution's name as the run id and its input (`{"time"?, "params"?}`).

Each machine has its own role (what CDK grants for the steps: invoking its one function,
starting its own map runs; S3 access only under jobs/ of the archive bucket), logs every event
to its own log group (one month), is traced with X-Ray, times out after `TIMEOUT`, and has an
alarm on failed, timed-out or aborted executions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct
from openloc.jobs.registry import SHARDED_JOBS
from openloc.jobs.sharding import JOBS_PREFIX, ShardedJob

from infra.storage import Storage

# Jobs that write the tables run on the bulk function; the others on the export function.
BULK_TASKS = frozenset({"cell_import", "replay"})
TIMEOUT = cdk.Duration.hours(6)
SHARD_RETRIES = 2  # a shard is idempotent: retried on any error, with backoff
PERIOD = cdk.Duration.minutes(5)


class _JobsItemReader(sfn.S3JsonItemReader):
    """The items JSON, read from a bucket named at run time; S3 access is granted separately,
    under jobs/ only (the reader's own grant would be s3:GetObject on every bucket)."""

    def provide_policy_statements(self) -> list[iam.PolicyStatement]:
        return []


class _JobsResultWriter(sfn.ResultWriterV2):
    def provide_policy_statements(self) -> list[iam.PolicyStatement]:
        return []


def state_machine_name(stack_name: str, task: str) -> str:
    return f"{stack_name}-{task.replace('_', '-')}"


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


class Jobs(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        functions: Mapping[str, lambda_.IFunction],
        alarm_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.storage = storage
        self.state_machines: dict[str, sfn.StateMachine] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        stack = cdk.Stack.of(self)
        removal = cdk.RemovalPolicy.RETAIN if storage.is_prod else cdk.RemovalPolicy.DESTROY
        for task, job in sorted(SHARDED_JOBS.items()):
            name = _pascal(task)
            function = functions["bulk" if task in BULK_TASKS else "export"]
            log_group = logs.LogGroup(
                self, f"{name}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal
            )
            machine = sfn.StateMachine(
                self,
                f"{name}StateMachine",
                state_machine_name=state_machine_name(stack.stack_name, task),
                definition_body=sfn.DefinitionBody.from_chainable(self._definition(name, job, function)),
                timeout=TIMEOUT,
                tracing_enabled=True,
                logs=sfn.LogOptions(
                    destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False
                ),
                comment=f"OpenLoc {task}: {job.description}",
            )
            # The Distributed Maps read their items and write their results under jobs/ only.
            machine.add_to_role_policy(
                iam.PolicyStatement(
                    actions=[
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                    ],
                    resources=[storage.archive_bucket.arn_for_objects(f"{JOBS_PREFIX}*")],
                )
            )
            machine.add_to_role_policy(
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[storage.archive_bucket.bucket_arn])
            )
            self.state_machines[task] = machine
            self._alarm(name, task, machine, alarm_topic)
        self._acknowledge(functions)

    def _acknowledge(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """cdk-nag IAM5 findings of what CDK grants the machines: they are scoped to one function
        (its versions: `<arn>:*`) and to the machine's own executions and map runs."""
        stack = cdk.Stack.of(self)

        def logical_id(construct: Construct | lambda_.IFunction) -> str:
            return str(
                stack.resolve(stack.get_logical_id(cast(cdk.CfnElement, construct.node.default_child)))
            )

        findings: dict[str, str] = {}
        for name in ("export", "bulk"):
            findings[f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(functions[name])}.Arn>:*]"] = (
                f"lambda:InvokeFunction on the {name} function and its versions (what LambdaInvoke grants); "
                "nothing else."
            )
        for machine in self.state_machines.values():
            execution = (
                "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                f'{{"Fn::Select":[6,{{"Fn::Split":[":",{{"Ref":"{logical_id(machine)}"}}]}}]}}'
            )
            for suffix in (":*", "/*:*"):
                findings[f"AwsSolutions::AwsSolutions-IAM5[Resource::{execution}{suffix}]"] = (
                    "A Distributed Map describes and stops the map runs and child executions of its own "
                    "state machine, whose names are generated at run time."
                )
        for finding, reason in findings.items():
            cdk.Validations.of(self).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))

    def _definition(self, name: str, job: ShardedJob, function: lambda_.IFunction) -> sfn.IChainable:
        archive = self.storage.archive_bucket.bucket_name
        chain: sfn.Chain | None = None
        last = len(job.stages) - 1
        for index, stage in enumerate(job.stages):
            common = {
                "task": job.task,
                "stage": index,
                "run": sfn.JsonPath.execution_name,
                "started": sfn.JsonPath.execution_start_time,
                "input": sfn.JsonPath.object_at("$$.Execution.Input"),
            }
            label = f"{stage.name.capitalize()} ({index + 1}/{len(job.stages)})"
            plan = tasks.LambdaInvoke(
                self,
                f"{name}Plan{index}",
                state_name=f"Plan {label}",
                lambda_function=function,
                payload=sfn.TaskInput.from_object({**common, "phase": "plan"}),
                result_selector={
                    "items_key": sfn.JsonPath.string_at("$.Payload.items_key"),
                    "count": sfn.JsonPath.number_at("$.Payload.count"),
                },
                result_path="$.plan",
            )
            shards = sfn.DistributedMap(
                self,
                f"{name}Shards{index}",
                state_name=f"Shards {label}",
                item_reader=_JobsItemReader(
                    bucket_name_path=sfn.JsonPath.string_at("$.archive"),
                    key=sfn.JsonPath.string_at("$.plan.items_key"),
                ),
                item_selector={
                    **common,
                    "phase": "shard",
                    "item": sfn.JsonPath.object_at("$$.Map.Item.Value"),
                },
                max_concurrency=stage.max_concurrency,
                tolerated_failure_percentage=0,
                result_writer_v2=_JobsResultWriter(
                    bucket_name_path=sfn.JsonPath.string_at("$.archive"),
                    prefix=f"{JOBS_PREFIX}{job.task}/map-results",
                ),
                result_path=sfn.JsonPath.DISCARD,
            )
            shard = tasks.LambdaInvoke(
                self,
                f"{name}Shard{index}",
                state_name=f"Shard {label}",
                lambda_function=function,
                payload=sfn.TaskInput.from_json_path_at("$"),
                result_selector={"id": sfn.JsonPath.number_at("$.Payload.id")},
            )
            shard.add_retry(
                errors=["States.ALL"],
                max_attempts=SHARD_RETRIES,
                interval=cdk.Duration.seconds(10),
                backoff_rate=3,
            )
            shards.item_processor(shard)
            finish = tasks.LambdaInvoke(
                self,
                f"{name}Finish{index}",
                state_name=f"Finish {label}",
                lambda_function=function,
                payload=sfn.TaskInput.from_object(
                    {**common, "phase": "finish", "count": sfn.JsonPath.number_at("$.plan.count")}
                ),
                result_selector={"summary": sfn.JsonPath.object_at("$.Payload.summary")},
                result_path="$.result" if index == last else sfn.JsonPath.DISCARD,
            )
            block = sfn.Chain.start(plan).next(shards).next(finish)
            chain = block if chain is None else chain.next(block)
        assert chain is not None
        # The archive bucket's name as the first state's data: the item readers and result
        # writers take it from there (a path, so CDK grants nothing beyond the jobs/ statements).
        start = sfn.Pass(
            self,
            f"{name}Start",
            state_name="Start",
            parameters={"archive": archive},
        )
        return sfn.Chain.start(start).next(chain)

    def _alarm(self, name: str, task: str, machine: sfn.StateMachine, topic: sns.ITopic) -> None:
        failures = cloudwatch.MathExpression(
            expression="failed + timedout + aborted",
            using_metrics={
                "failed": machine.metric_failed(period=PERIOD, statistic="Sum"),
                "timedout": machine.metric_timed_out(period=PERIOD, statistic="Sum"),
                "aborted": machine.metric_aborted(period=PERIOD, statistic="Sum"),
            },
            period=PERIOD,
            label=f"{task} executions failed",
        )
        alarm = cloudwatch.Alarm(
            self,
            f"{name}Failed",
            metric=failures,
            threshold=0,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"OpenLoc: a {task} run failed, timed out or was aborted (docs/operations.md)",
        )
        alarm.add_alarm_action(actions.SnsAction(topic))
        alarm.add_ok_action(actions.SnsAction(topic))
        self.alarms[task] = alarm
