"""Synthesizing the real CDK app for the infra tests (the cdk-nag plugin runs on every synth)."""

from __future__ import annotations

import os

# Before aws_cdk starts its node process: silence jsii's node 20 banner.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import tempfile
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from infra.app import build_app
from infra.packaging import asset_dirs

# Every optional feature on: Redis in a VPC, the API behind CloudFront, GeoIP from S3, custom
# domains, an alarm subscription, production stage.
FULL_CONTEXT: dict[str, Any] = {
    "stage": "prod",
    "openloc:redis": True,
    "openloc:api_behind_cdn": True,
    "openloc:geoip": "s3",
    "openloc:geoip_s3_uri": "s3://operator-geo/GeoLite2-City.mmdb",
    "openloc:alarm_email": "ops@example.org",
    "openloc:api_domain_name": "api.example.org",
    "openloc:api_certificate_arn": "arn:aws:acm:eu-central-1:123456789012:certificate/api",
    "openloc:cdn_domain_name": "www.example.org",
    "openloc:cdn_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/cdn",
    "openloc:key_policy": "optional",
}


def unbuilt_assets() -> dict[str, Path]:
    """Placeholder assets whatever `make package` left in build/: the same template everywhere."""
    return asset_dirs(Path(tempfile.gettempdir()) / "openloc-unbuilt-checkout")


def synth(context: dict[str, Any] | None = None, assets: dict[str, Path] | None = None) -> Template:
    """The stack's template; an unacknowledged cdk-nag finding raises here."""
    _, stack = build_app(context, assets if assets is not None else unbuilt_assets())
    return Template.from_stack(stack)


def resources(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    found = template.find_resources(resource_type)
    return {logical_id: dict(resource) for logical_id, resource in found.items()}


def only(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return next(iter(found.items()))


def functions(template: Template) -> dict[str, dict[str, Any]]:
    """Function properties by OpenLoc function name (from the description "OpenLoc <name>: ...")."""
    named = {}
    for resource in resources(template, "AWS::Lambda::Function").values():
        description = resource["Properties"].get("Description", "")
        if description.startswith("OpenLoc "):
            named[description.removeprefix("OpenLoc ").split(":", 1)[0]] = resource["Properties"]
    return named


def policy_statements(template: Template) -> list[dict[str, Any]]:
    statements = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def role_actions(template: Template, description: str) -> set[str]:
    """Every IAM action granted to the role with this description (e.g. "OpenLoc locate function")."""
    (role_id,) = [
        logical_id
        for logical_id, role in resources(template, "AWS::IAM::Role").items()
        if role["Properties"].get("Description") == description
    ]
    return {
        action
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
