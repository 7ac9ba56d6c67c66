"""What the synthesized template promises about access and privacy (docs/security.md,
docs/privacy.md), in both deployment variants: the API Gateway endpoint directly (`template`) and
the API behind CloudFront (`full_template`)."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.app import ROOT
from infra.cdn import API_PATH_PATTERNS
from tests.infra.templates import FULL_CONTEXT, functions, only, resources, synth

pytestmark = pytest.mark.infra

API_FUNCTIONS = ("locate", "submit")


def _secret(template: Template, description_start: str) -> str:
    (logical_id,) = [
        logical_id
        for logical_id, secret in resources(template, "AWS::SecretsManager::Secret").items()
        if secret["Properties"]["Description"].startswith(description_start)
    ]
    return logical_id


def _statements_of(template: Template, description: str) -> list[dict[str, Any]]:
    (role_id,) = [
        logical_id
        for logical_id, role in resources(template, "AWS::IAM::Role").items()
        if role["Properties"].get("Description") == description
    ]
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _reads_secret(template: Template, function: str, secret_id: str) -> bool:
    for statement in _statements_of(template, f"OpenLoc {function} function"):
        targets = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if "secretsmanager:GetSecretValue" in statement["Action"] and {"Ref": secret_id} in targets:
            return True
    return False


@pytest.mark.parametrize("variant", ["template", "full_template"])
def test_the_ip_hash_key_is_read_at_run_time_and_never_in_the_template(
    variant: str, request: pytest.FixtureRequest
) -> None:
    """The defect: IP_HASH_KEY was a plain Lambda environment variable (a resolved secret)."""
    template: Template = request.getfixturevalue(variant)
    secret_id = _secret(template, "OpenLoc: key of the BLAKE2b hash")
    text = json.dumps(template.to_json())
    assert "resolve:secretsmanager" not in text.replace(_origin_reference(template), "")
    for name, properties in functions(template).items():
        env = properties["Environment"]["Variables"]
        assert "IP_HASH_KEY" not in env
        if name in API_FUNCTIONS:
            assert env["IP_HASH_KEY_SECRET_ARN"] == {"Ref": secret_id}
            assert _reads_secret(template, name, secret_id)
    for name in ("aggregate", "export"):
        assert not _reads_secret(template, name, secret_id)


def _origin_reference(template: Template) -> str:
    """The CloudFront header's dynamic reference to the origin secret ("" without the CDN variant)."""
    found = [
        header["HeaderValue"]
        for origin in only(template, "AWS::CloudFront::Distribution")[1]["Properties"]["DistributionConfig"][
            "Origins"
        ]
        for header in origin.get("OriginCustomHeaders", [])
    ]
    return json.dumps(found[0])[1:-1] if found else ""


@pytest.mark.parametrize("variant", ["template", "full_template"])
def test_access_logs_keep_no_user_agent_address_or_query(
    variant: str, request: pytest.FixtureRequest
) -> None:
    """The defect: the access log format had `$context.identity.userAgent`, kept for a month, while
    docs/privacy.md says user agents are never stored."""
    template: Template = request.getfixturevalue(variant)
    _, stage = only(template, "AWS::ApiGatewayV2::Stage")
    log_format = stage["Properties"]["AccessLogSettings"]["Format"]
    for forbidden in ("userAgent", "sourceIp", "identity.", "querystring", "caller", "user"):
        assert forbidden.lower() not in log_format.lower(), forbidden


def test_traces_never_capture_answers(template: Template) -> None:
    """The defect: X-Ray is on by default and `capture_lambda_handler` recorded each answer as trace
    metadata: the located latitude/longitude to 7 digits. Off in the environment and in the code."""
    for properties in functions(template).values():
        assert properties["Environment"]["Variables"]["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    decorators = 0
    for handler in sorted((ROOT / "functions").glob("*/handler.py")):
        for node in ast.walk(ast.parse(handler.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "tracer"
                ):
                    decorators += 1
                    assert isinstance(decorator, ast.Call), f"{handler}: {target.attr} without arguments"
                    options = {keyword.arg: keyword.value for keyword in decorator.keywords}
                    capture = options.get("capture_response")
                    assert isinstance(capture, ast.Constant) and capture.value is False, (
                        f"{handler}: {target.attr}"
                    )
    assert decorators >= 5  # every handler, and the aggregator's record handler


# --- the two variants ---------------------------------------------------------------------------------


def test_directly_the_execute_api_endpoint_serves_and_no_forwarded_address_is_trusted(
    template: Template,
) -> None:
    _, api = only(template, "AWS::ApiGatewayV2::Api")
    assert not api["Properties"].get("DisableExecuteApiEndpoint", False)
    for properties in functions(template).values():
        env = properties["Environment"]["Variables"]
        assert "TRUSTED_PROXY_HOPS" not in env and "ORIGIN_SECRET_ARN" not in env
    assert len(resources(template, "AWS::SecretsManager::Secret")) == 1
    assert not resources(template, "AWS::SecretsManager::RotationSchedule")


def test_behind_the_cdn_only_cloudfront_reaches_the_api(full_template: Template) -> None:
    """The defect: with `openloc:api_behind_cdn`, the execute-api endpoint stayed open and the
    API domain pointed at API Gateway, so a client could send its own X-Forwarded-For."""
    _, api = only(full_template, "AWS::ApiGatewayV2::Api")
    assert api["Properties"]["DisableExecuteApiEndpoint"] is True
    secret_id = _secret(full_template, "OpenLoc: X-Origin-Verify")
    config = only(full_template, "AWS::CloudFront::Distribution")[1]["Properties"]["DistributionConfig"]
    (api_origin,) = [origin for origin in config["Origins"] if "CustomOriginConfig" in origin]
    assert api_origin["DomainName"] == FULL_CONTEXT["openloc:api_domain_name"]
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    (header,) = api_origin["OriginCustomHeaders"]
    assert header["HeaderName"] == "X-Origin-Verify"
    # a dynamic reference to the secret, resolved at deploy time: no value in the template
    assert "{{resolve:secretsmanager:" in json.dumps(header["HeaderValue"]) and secret_id in json.dumps(
        header["HeaderValue"]
    )
    # the API behaviours forward the viewer address CloudFront vouches for, never the Host
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    policies = resources(full_template, "AWS::CloudFront::OriginRequestPolicy")
    for pattern in API_PATH_PATTERNS:
        policy = policies[behaviors[pattern]["OriginRequestPolicyId"]["Ref"]]["Properties"][
            "OriginRequestPolicyConfig"
        ]
        headers = {h.lower() for h in policy["HeadersConfig"]["Headers"]}
        assert policy["HeadersConfig"]["HeaderBehavior"] == "whitelist"
        assert (
            "cloudfront-viewer-address" in headers
            and "host" not in headers
            and "x-forwarded-for" not in headers
        )
    for name in API_FUNCTIONS:
        env = functions(full_template)[name]["Environment"]["Variables"]
        assert env["ORIGIN_SECRET_ARN"] == {"Ref": secret_id}
        assert "TRUSTED_PROXY_HOPS" not in env
        assert _reads_secret(full_template, name, secret_id)


def test_the_origin_secret_is_rotated_by_a_function_that_touches_only_it(full_template: Template) -> None:
    secret_id = _secret(full_template, "OpenLoc: X-Origin-Verify")
    _, schedule = only(full_template, "AWS::SecretsManager::RotationSchedule")
    assert schedule["Properties"]["SecretId"] == {"Ref": secret_id}
    assert schedule["Properties"]["RotationRules"]["ScheduleExpression"] == "rate(30 days)"
    rotate = functions(full_template)["rotate"]
    assert "ORIGIN_DISTRIBUTION_ID" in rotate["Environment"]["Variables"]
    statements = _statements_of(full_template, "OpenLoc origin secret rotation")
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(
            action.startswith("secretsmanager:") and action != "secretsmanager:GetRandomPassword"
            for action in actions
        ):
            assert statement["Resource"] == {"Ref": secret_id}
        if any(action.startswith("cloudfront:") for action in actions):
            assert "distribution/" in json.dumps(statement["Resource"])
        if statement["Resource"] == "*":
            assert actions == ["secretsmanager:GetRandomPassword"]


def test_behind_the_cdn_needs_the_api_domain() -> None:
    context = {**FULL_CONTEXT}
    del context["openloc:api_domain_name"], context["openloc:api_certificate_arn"]
    with pytest.raises(ValueError, match="api_domain_name"):
        synth(context)


def test_the_rotation_function_is_packaged(tmp_path: Path) -> None:
    from infra.packaging import FUNCTIONS

    assert "rotate" in FUNCTIONS and (ROOT / "functions" / "rotate" / "handler.py").is_file()
