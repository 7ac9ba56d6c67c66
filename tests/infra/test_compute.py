"""Functions, layers, the SQS event source and the schedules of the synthesized stack."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template
from openloc.jobs.registry import SCHEDULES
from openloc.store.tables import VISIBILITY_TIMEOUT

from infra.compute import FUNCTION_SPECS, GEOIP_LAYER_PATH, SQS_VISIBILITY_FACTOR
from tests.infra.templates import functions, only, policy_statements, resources, role_actions

pytestmark = pytest.mark.infra


def test_four_functions_on_arm64_python312_with_tracing(template: Template) -> None:
    found = functions(template)
    compute = [spec for spec in FUNCTION_SPECS if spec.in_compute]  # rotate: behind the CDN only
    assert set(found) == {spec.name for spec in compute}
    for spec in compute:
        properties = found[spec.name]
        assert properties["Architectures"] == ["arm64"]
        assert properties["Runtime"] == "python3.12"
        assert properties["Handler"] == "handler.handler"
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["MemorySize"] == spec.memory_mb
        assert properties["Timeout"] == spec.timeout_seconds
        env = properties["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == "openloc"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "OpenLoc"
        assert env["OPENLOC_KEY_POLICY"] == "required"
        assert "REDIS_URL" not in env  # no cache by default: the service runs without limits


def test_api_functions_use_snapstart_behind_a_live_alias(template: Template) -> None:
    found = functions(template)
    for name in ("locate", "submit"):
        assert found[name]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    for name in ("aggregate", "export"):
        assert "SnapStart" not in found[name]
    aliases = resources(template, "AWS::Lambda::Alias")
    assert sorted(alias["Properties"]["Name"] for alias in aliases.values()) == ["live", "live"]


def test_visibility_timeout_covers_six_aggregator_timeouts(template: Template) -> None:
    assert functions(template)["aggregate"]["Timeout"] * SQS_VISIBILITY_FACTOR <= VISIBILITY_TIMEOUT


def test_aggregator_reports_batch_item_failures_with_bounded_concurrency(template: Template) -> None:
    _, mapping = only(template, "AWS::Lambda::EventSourceMapping")
    properties = mapping["Properties"]
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == 10
    assert properties["MaximumBatchingWindowInSeconds"] == 5
    assert properties["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert functions(template)["aggregate"]["ReservedConcurrentExecutions"] == 5


def test_batching_comes_from_context() -> None:
    from tests.infra.templates import synth

    template = synth(
        {
            "openloc:aggregate_batch_size": 50,
            "openloc:aggregate_batching_window_seconds": 20,
            "openloc:aggregate_concurrency": 3,
            "openloc:geoip": "none",
        }
    )
    properties = only(template, "AWS::Lambda::EventSourceMapping")[1]["Properties"]
    assert (properties["BatchSize"], properties["MaximumBatchingWindowInSeconds"]) == (50, 20)
    assert properties["ScalingConfig"] == {"MaximumConcurrency": 3}
    locate = functions(template)["locate"]
    assert "GEOIP_PATH" not in locate["Environment"]["Variables"]
    assert len(locate["Layers"]) == 1


def test_each_function_carries_its_own_layers(template: Template) -> None:
    """The service layer everywhere, GeoIP on locate, numpy/Pillow/pmtiles on the jobs' functions
    only (export, and bulk: the same code for the sharded import and replay)."""
    found = functions(template)
    layers = resources(template, "AWS::Lambda::LayerVersion")
    by_description = {
        logical_id: layer["Properties"]["Description"].split(" ")[0] for logical_id, layer in layers.items()
    }
    carried = {name: sorted(by_description[ref["Ref"]] for ref in found[name]["Layers"]) for name in found}
    assert carried == {
        "locate": ["GeoIP", "openloc"],
        "submit": ["openloc"],
        "aggregate": ["openloc"],
        "export": ["numpy,", "openloc"],
        "bulk": ["numpy,", "openloc"],
    }
    assert found["locate"]["Environment"]["Variables"]["GEOIP_PATH"] == GEOIP_LAYER_PATH
    for name in ("submit", "aggregate", "export", "bulk"):
        assert "GEOIP_PATH" not in found[name]["Environment"]["Variables"]
    for layer in layers.values():
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]


def test_geoip_from_s3_grants_that_object_only(full_template: Template) -> None:
    locate = functions(full_template)["locate"]
    assert locate["Environment"]["Variables"]["GEOIP_PATH"] == "s3://operator-geo/GeoLite2-City.mmdb"
    grants = [str(s["Resource"]) for s in policy_statements(full_template) if s["Action"] == "s3:GetObject"]
    geo = [g for g in grants if "operator-geo" in g]
    assert len(geo) == 1 and "operator-geo/GeoLite2-City.mmdb" in geo[0]
    # The only other GetObject-only grant: the bulk function reading the raw archive (replay).
    assert [g for g in grants if "operator-geo" not in g and "/observations/*" not in g] == []


def test_one_rule_per_scheduled_job(template: Template) -> None:
    rules = resources(template, "AWS::Events::Rule")
    expressions = sorted(rule["Properties"]["ScheduleExpression"] for rule in rules.values())
    assert expressions == sorted(schedule.cron for schedule in SCHEDULES)
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2


def test_json_logs_without_platform_report_lines(template: Template) -> None:
    for properties in functions(template).values():
        assert properties["LoggingConfig"]["LogFormat"] == "JSON"
        assert properties["LoggingConfig"]["SystemLogLevel"] == "WARN"
        assert properties["LoggingConfig"]["ApplicationLogLevel"] == "INFO"


def test_service_environment_carries_retention(template: Template) -> None:
    for properties in functions(template).values():
        assert properties["Environment"]["Variables"]["ARCHIVE_RETENTION_DAYS"] == "365"


def test_export_job_sized_for_dumps_and_packs(template: Template) -> None:
    export = functions(template)["export"]
    assert export["Timeout"] == 900
    assert export["EphemeralStorage"] == {"Size": 4096}


def test_grants_follow_what_each_function_does(template: Template) -> None:
    submit = role_actions(template, "OpenLoc submit function")
    assert {"sqs:SendMessage", "dynamodb:PutItem", "dynamodb:Query"} <= submit  # transfer merges
    assert "s3:PutObject" not in submit
    export = role_actions(template, "OpenLoc export function")
    assert {"dynamodb:Scan", "s3:ListBucket", "s3:DeleteObject", "s3:PutObject"} <= export
    assert not {a for a in export if a.startswith("dynamodb:") and ("Put" in a or "Delete" in a)}
    aggregate = role_actions(template, "OpenLoc aggregate function")
    assert "dynamodb:Scan" not in aggregate
