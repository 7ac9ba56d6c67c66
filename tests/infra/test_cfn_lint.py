"""cfn-lint over every synthesized template variant: CloudFormation itself would accept them.

cdk-nag (run on every synth) checks security practice; cfn-lint checks what the CloudFormation
service checks and more: resource properties against the resource specification of each region,
intrinsic functions, references, allowed values. Zero errors on every variant; the only warning
tolerated is listed below with its reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tests.infra.templates import FULL_CONTEXT, synth

pytestmark = pytest.mark.infra

# The API with function URLs and every other option (a custom API domain needs the HTTP API).
FUNCTION_URL_CONTEXT: dict[str, Any] = {
    **{
        k: v
        for k, v in FULL_CONTEXT.items()
        if k not in ("openloc:api_domain_name", "openloc:api_certificate_arn")
    },
    "openloc:api": "function-url",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "prod": {"stage": "prod"},
    "full": FULL_CONTEXT,
    "function-url": {"openloc:api": "function-url"},
    "function-url-full": FUNCTION_URL_CONTEXT,
}
# Regions whose resource specifications the templates are checked against.
REGIONS = ["us-east-1", "eu-central-1", "eu-west-1"]
TOLERATED = {
    # CDK adds an explicit DependsOn on a function's role (and a stage on its domain) next to the
    # GetAtt/Ref that already orders them: redundant, harmless.
    "W3005",
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_template_passes_cfn_lint(variant: str) -> None:
    template = synth(VARIANTS[variant]).to_json()
    matches = lint(json.dumps(template), config=ManualArgs(regions=REGIONS))
    findings = [f"{m.rule.id} {'/'.join(map(str, m.path))}: {m.message}" for m in matches]
    errors = [f for f, m in zip(findings, matches, strict=True) if m.rule.id.startswith("E")]
    assert errors == [], "\n".join(errors)
    unexpected = [
        f for f, m in zip(findings, matches, strict=True) if m.rule.id not in TOLERATED and f not in errors
    ]
    assert unexpected == [], "\n".join(unexpected)
