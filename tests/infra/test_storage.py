"""The Storage construct, synthesized through the real app (cdk-nag plugin included)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from openloc.settings import FIELD_NAMES, Settings
from openloc.store.tables import (
    MAX_RECEIVE_COUNT,
    OBSERVATIONS_DLQ,
    OBSERVATIONS_QUEUE,
    TABLES,
    VISIBILITY_TIMEOUT,
    TableSpec,
)

from infra.app import build_app, cdk_json_context
from infra.storage import Storage
from tests.infra.templates import resources

pytestmark = pytest.mark.infra


def table_by_name(template: Template, name: str) -> dict[str, Any]:
    matches = [
        resource
        for resource in resources(template, "AWS::DynamoDB::Table").values()
        if resource["Properties"].get("TableName") == name
    ]
    assert len(matches) == 1, f"expected exactly one table named {name}"
    return matches[0]


def expected_name(spec: TableSpec) -> str:
    return str(Settings.default(spec.setting))


def test_one_table_per_shared_definition(template: Template) -> None:
    template.resource_count_is("AWS::DynamoDB::Table", len(TABLES))


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.setting)
def test_table_matches_shared_definition(template: Template, spec: TableSpec) -> None:
    properties = table_by_name(template, expected_name(spec))["Properties"]

    key_schema = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
    if spec.range_key:
        key_schema.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
    assert properties["KeySchema"] == key_schema
    key_names = {spec.hash_key, spec.range_key} | {n for i in spec.indexes for n in (i.hash_key, i.range_key)}
    assert sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": name, "AttributeType": "S"} for name in sorted(n for n in key_names if n)
    ]
    indexes = {
        index["IndexName"]: (index["KeySchema"], index["Projection"])
        for index in properties.get("GlobalSecondaryIndexes", [])
    }
    assert indexes == {
        index.name: (
            [{"AttributeName": index.hash_key, "KeyType": "HASH"}]
            + ([{"AttributeName": index.range_key, "KeyType": "RANGE"}] if index.range_key else []),
            {"ProjectionType": "ALL"},
        )
        for index in spec.indexes
    }
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    if spec.ttl_attribute:
        assert properties["TimeToLiveSpecification"] == {
            "AttributeName": spec.ttl_attribute,
            "Enabled": True,
        }
    else:
        assert "TimeToLiveSpecification" not in properties


def test_dev_tables_are_disposable(template: Template) -> None:
    for resource in resources(template, "AWS::DynamoDB::Table").values():
        assert resource["DeletionPolicy"] == "Delete"
        assert not resource["Properties"].get("DeletionProtectionEnabled", False)


def test_prod_turns_on_deletion_protection_and_retains_data(prod_template: Template) -> None:
    tables = resources(prod_template, "AWS::DynamoDB::Table")
    assert len(tables) == len(TABLES)
    for resource in tables.values():
        assert resource["Properties"]["DeletionProtectionEnabled"] is True
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["UpdateReplacePolicy"] == "Retain"
    for bucket in resources(prod_template, "AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Retain"


def test_observations_queue_redrives_to_dlq(template: Template) -> None:
    queues = {
        resource["Properties"]["QueueName"]: (logical_id, resource["Properties"])
        for logical_id, resource in resources(template, "AWS::SQS::Queue").items()
    }
    assert set(queues) == {OBSERVATIONS_QUEUE, OBSERVATIONS_DLQ}
    dlq_id, dlq = queues[OBSERVATIONS_DLQ]
    _, queue = queues[OBSERVATIONS_QUEUE]

    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }
    assert queue["VisibilityTimeout"] == VISIBILITY_TIMEOUT
    for properties in (queue, dlq):
        assert properties["SqsManagedSseEnabled"] is True
    assert "RedrivePolicy" not in dlq


def assert_deny_insecure_transport(template: Template, policy_type: str, count: int) -> None:
    policies = resources(template, policy_type)
    assert len(policies) == count
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for statement in statements
        )


def test_queues_enforce_ssl(template: Template) -> None:
    assert_deny_insecure_transport(template, "AWS::SQS::QueuePolicy", 2)


def test_buckets_block_public_access_and_encrypt(template: Template) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3  # archive, assets, access logs
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        encryption = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_buckets_enforce_ssl(template: Template) -> None:
    assert_deny_insecure_transport(template, "AWS::S3::BucketPolicy", 3)


def test_assets_versioned_and_data_buckets_logged(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {"VersioningConfiguration": {"Status": "Enabled"}, "LoggingConfiguration": Match.any_value()},
    )
    logged = [
        bucket
        for bucket in resources(template, "AWS::S3::Bucket").values()
        if "LoggingConfiguration" in bucket["Properties"]
    ]
    assert len(logged) == 2  # archive and assets log into the access-log bucket


def test_environment_names_the_settings_variables() -> None:
    _, stack = build_app()
    environment = stack.storage.environment
    for spec in TABLES:
        assert environment[spec.setting.upper()] == expected_name(spec)
    assert {"ARCHIVE_BUCKET", "ASSETS_BUCKET", "OBSERVATIONS_QUEUE_URL"} <= set(environment)
    # Every variable is a Settings field, so the functions read them without extra mapping.
    assert {name.lower() for name in environment} <= set(FIELD_NAMES)


def lifecycle_rules(template: Template, rule_id: str) -> list[dict[str, Any]]:
    return [
        rule
        for bucket in resources(template, "AWS::S3::Bucket").values()
        for rule in bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        if rule["Id"] == rule_id
    ]


def test_archive_moves_to_cheaper_tiers_and_expires_after_retention(template: Template) -> None:
    (rule,) = lifecycle_rules(template, "archive-tiers-and-retention")
    assert rule["ExpirationInDays"] == 365
    assert [(t["StorageClass"], t["TransitionInDays"]) for t in rule["Transitions"]] == [
        ("STANDARD_IA", 30),
        ("GLACIER_IR", 90),
    ]


@pytest.mark.parametrize(("days", "tiers"), [(0, ["STANDARD_IA", "GLACIER_IR"]), (60, ["STANDARD_IA"])])
def test_archive_retention_is_configurable(days: int, tiers: list[str]) -> None:
    app = cdk.App(context={**cdk_json_context(), "openloc:archive_retention_days": days})
    stack = cdk.Stack(app, "Retention")
    Storage(stack, "Storage", stage="dev")
    (rule,) = lifecycle_rules(Template.from_stack(stack), "archive-tiers-and-retention")
    assert rule.get("ExpirationInDays") == (days or None)
    assert [t["StorageClass"] for t in rule["Transitions"]] == tiers


def test_diff_exports_expire(template: Template) -> None:
    (rule,) = lifecycle_rules(template, "expire-diff-exports")
    assert rule["Prefix"] == "exports/cells/diff/"
    assert rule["ExpirationInDays"] == 7
