"""Alarms, dashboard, least-privilege IAM, cdk-nag, and `npx cdk synth` through the pinned CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from infra.app import ROOT, build_app
from tests.infra.templates import only, policy_statements, resources, role_actions

pytestmark = pytest.mark.infra


def alarms(template: Template) -> dict[str, dict[str, Any]]:
    return {
        logical_id.split("Monitoring", 1)[1][:-8]: alarm["Properties"]  # minus the hash suffix
        for logical_id, alarm in resources(template, "AWS::CloudWatch::Alarm").items()
        if "Monitoring" in logical_id  # (the jobs' alarms: tests/infra/test_jobs.py)
    }


def test_alarms_cover_errors_latency_dlq_age_and_aggregator(template: Template) -> None:
    found = alarms(template)
    assert {"Api5xxRate", "ApiLatencyP99", "DeadLetters", "QueueAge", "AggregateErrors"} <= set(found)
    assert found["DeadLetters"]["Threshold"] == 0
    assert found["DeadLetters"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert found["ApiLatencyP99"]["ExtendedStatistic"] == "p99"
    assert found["ApiLatencyP99"]["Threshold"] == 1000
    assert found["QueueAge"]["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert found["AggregateErrors"]["MetricName"] == "Errors"
    rate = found["Api5xxRate"]
    assert {metric["Id"] for metric in rate["Metrics"]} >= {"errors", "requests"}
    topic_id, _ = only(template, "AWS::SNS::Topic")
    for properties in found.values():
        assert properties["AlarmActions"] == [{"Ref": topic_id}]
        assert properties["TreatMissingData"] == "notBreaching"


def test_alarm_topic_is_encrypted_and_can_email(full_template: Template) -> None:
    _, topic = only(full_template, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic["Properties"]
    _, subscription = only(full_template, "AWS::SNS::Subscription")
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.org"
    only(full_template, "AWS::CloudWatch::Dashboard")


DATA_SERVICES = ("dynamodb:", "s3:", "sqs:")


@pytest.mark.parametrize("variant", ["template", "full_template"])
def test_no_wildcard_actions_or_resources_on_data(variant: str, request: pytest.FixtureRequest) -> None:
    template: Template = request.getfixturevalue(variant)
    for statement in policy_statements(template):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert "*" not in action.split(":", 1)[1] or action.startswith(
                ("kms:", "xray:", "ec2:", "logs:")
            ), action
        if any(action.startswith(DATA_SERVICES) for action in actions):
            resources_ = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            assert "*" not in resources_, statement


def test_no_managed_policies_on_function_roles(template: Template) -> None:
    for role in resources(template, "AWS::IAM::Role").values():
        assert not role["Properties"].get("ManagedPolicyArns"), role


def test_locate_reads_only(template: Template) -> None:
    actions = role_actions(template, "OpenLoc locate function")
    assert not {
        a for a in actions if a.startswith("dynamodb:") and ("Put" in a or "Update" in a or "Delete" in a)
    }
    assert not {a for a in actions if a.startswith(("sqs:", "s3:Put"))}


def test_cdk_nag_rejects_an_unacknowledged_finding() -> None:
    """The plugin is live: a public, unencrypted, unlogged bucket fails the synth."""
    _, stack = build_app()
    s3.Bucket(
        stack,
        "CarelessBucket",
        block_public_access=s3.BlockPublicAccess(block_public_policy=False, restrict_public_buckets=False),
    )
    with pytest.raises(Exception, match="AwsSolutions-S1"):
        Template.from_stack(stack)


def test_every_acknowledgment_gives_a_reason() -> None:
    from infra.stack import NAG_ACKNOWLEDGMENTS

    assert all(len(reason) > 40 for reason in NAG_ACKNOWLEDGMENTS.values())


def test_stage_must_be_known() -> None:
    with pytest.raises(Exception, match="stage"):
        build_app({"stage": "staging"})


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed for the CDK CLI")
def test_npx_cdk_synth_with_the_pinned_cli(tmp_path: Path) -> None:
    cli = ROOT / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True
        )
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    result = subprocess.run(
        [
            "npx",
            "--no-install",
            "cdk",
            "synth",
            "--quiet",
            "--no-notices",
            "--output",
            str(tmp_path / "cdk.out"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    synthesized = json.loads((tmp_path / "cdk.out" / "OpenLoc.template.json").read_text(encoding="utf-8"))
    kinds = {resource["Type"] for resource in synthesized["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::CloudFront::Distribution", "AWS::DynamoDB::Table"} <= kinds
