"""The sharded jobs' state machines: shape, least privilege, logging, alarms, schedule targets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template
from openloc.jobs.registry import SCHEDULES, SHARDED_JOBS

from tests.infra.templates import functions, resources, synth

pytestmark = pytest.mark.infra


def _definition(machine: dict[str, Any]) -> dict[str, Any]:
    """The ASL of a state machine with the CloudFormation tokens flattened to placeholders."""
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return dict(json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts)))


def machines(template: Template) -> dict[str, dict[str, Any]]:
    """State machines by task (from their comment "OpenLoc <task>: …")."""
    found = {}
    for machine in resources(template, "AWS::StepFunctions::StateMachine").values():
        definition = _definition(machine)
        task = definition["Comment"].removeprefix("OpenLoc ").split(":", 1)[0]
        found[task] = {"resource": machine, "definition": definition}
    return found


def test_one_state_machine_per_sharded_job_with_its_stages(template: Template) -> None:
    found = machines(template)
    assert set(found) == set(SHARDED_JOBS)
    for task, job in SHARDED_JOBS.items():
        states = found[task]["definition"]["States"]
        maps = [s for s in states.values() if s["Type"] == "Map"]
        assert len(maps) == len(job.stages)
        for stage, state in zip(job.stages, maps, strict=True):
            assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
            assert state["MaxConcurrency"] == stage.max_concurrency
            # no tolerated failure (Step Functions' default when neither field is set)
            assert state.get("ToleratedFailurePercentage", 0) == 0 and "ToleratedFailureCount" not in state
            assert state["ItemReader"]["Parameters"]["Key.$"] == "$.plan.items_key"
            assert state["ResultWriter"]["Parameters"]["Prefix"] == f"jobs/{task}/map-results"
            (shard,) = state["ItemProcessor"]["States"].values()
            assert shard["Parameters"]["Payload.$"] == "$"
            assert any(r["ErrorEquals"] == ["States.ALL"] for r in shard["Retry"])
        phases = [s["Parameters"]["Payload"]["phase"] for s in states.values() if s["Type"] == "Task"]
        assert phases == ["plan", "finish"] * len(job.stages)
        item_selector = maps[0]["ItemSelector"]
        assert item_selector["run.$"] == "$$.Execution.Name"
        assert item_selector["item.$"] == "$$.Map.Item.Value"
        assert item_selector["task"] == task


def test_state_machines_log_everything_are_traced_and_time_out(template: Template) -> None:
    for found in machines(template).values():
        properties = found["resource"]["Properties"]
        assert properties["LoggingConfiguration"]["Level"] == "ALL"
        assert properties["TracingConfiguration"]["Enabled"] is True
        assert found["definition"]["TimeoutSeconds"] == 6 * 3600


def test_state_machine_roles_reach_s3_only_under_jobs(template: Template) -> None:
    for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
        if not logical_id.startswith("Jobs"):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            s3_actions = [a for a in actions if a.startswith("s3:")]
            if not s3_actions:
                continue
            if s3_actions == ["s3:ListBucket"]:
                assert "/" not in json.dumps(statement["Resource"])
            else:
                assert json.dumps(statement["Resource"]).endswith('"/jobs/*"]]}'), statement
            assert statement["Resource"] != "*"


def test_each_state_machine_invokes_one_function(template: Template) -> None:
    assert {"export", "bulk"} <= set(functions(template))
    for task, found in machines(template).items():
        definition = json.dumps(found["resource"]["Properties"]["DefinitionString"])
        expected = "ComputeBulkFunction" if task in ("cell_import", "replay") else "ComputeExportFunction"
        other = "ComputeExportFunction" if expected == "ComputeBulkFunction" else "ComputeBulkFunction"
        assert expected in definition and other not in definition


def test_bulk_function_writes_tables_export_function_only_reads_them(template: Template) -> None:
    def actions_of(description: str) -> set[str]:
        from tests.infra.templates import role_actions

        return role_actions(template, description)

    export = actions_of("OpenLoc export function")
    bulk = actions_of("OpenLoc bulk function")
    assert not {a for a in export if a.startswith("dynamodb:") and a.endswith(("PutItem", "BatchWriteItem"))}
    assert {"dynamodb:BatchWriteItem", "dynamodb:Query"} <= bulk
    assert functions(template)["bulk"]["Timeout"] == 900


def test_an_alarm_per_state_machine_on_failed_timed_out_or_aborted_runs(template: Template) -> None:
    alarms = {
        logical_id: alarm["Properties"]
        for logical_id, alarm in resources(template, "AWS::CloudWatch::Alarm").items()
        if logical_id.startswith("Jobs")
    }
    assert len(alarms) == len(SHARDED_JOBS)
    for alarm in alarms.values():
        metrics = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
        assert metrics == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
        assert alarm["Threshold"] == 0
        assert alarm["AlarmActions"] and alarm["OKActions"]


def test_scheduled_sharded_jobs_start_their_state_machine(template: Template) -> None:
    rules = {
        rule["Properties"]["Name"]: rule["Properties"]
        for rule in resources(template, "AWS::Events::Rule").values()
    }
    for schedule in SCHEDULES:
        (target,) = rules[f"OpenLoc-{schedule.task}"]["Targets"]
        if schedule.sharded is not None:
            assert "StateMachine" in json.dumps(target["Arn"])
            assert target["InputTransformer"]["InputPathsMap"] == {"time": "$.time"}
            assert target["InputTransformer"]["InputTemplate"] == '{"time":<time>}'
            assert target["RoleArn"]
        else:
            assert "ComputeExportFunction" in json.dumps(target["Arn"])


def test_without_sharded_jobs_every_rule_invokes_the_export_function() -> None:
    template = synth({"openloc:sharded_jobs": False})
    for rule in resources(template, "AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        assert "ComputeExportFunction" in json.dumps(target["Arn"])
    assert len(resources(template, "AWS::StepFunctions::StateMachine")) == len(SHARDED_JOBS)  # still by hand
