"""CDK entry point (`npx cdk synth`, see cdk.json) and `build_app()` for the infra tests.

The stage comes from the context key "stage" or "openloc:stage" ("dev" in cdk.json; `-c stage=prod`
for production). cdk-nag's AwsSolutions pack runs as a policy-validation plugin: a finding fails
the synth unless it is fixed or acknowledged with a reason next to the resource.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# `python infra/app.py` (cdk.json) puts infra/ on sys.path, not the repository root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# node 20 makes jsii print a large banner on every run. Past jsii's support window for node 20 the
# end-of-life variable (a list of major versions) is the one that applies; the other one before it.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.packaging import is_placeholder  # noqa: E402
from infra.stack import DEFAULT_STAGE, STAGE_CONTEXT, OpenLocStack  # noqa: E402

STACK_ID = "OpenLoc"


def cdk_json_context() -> dict[str, Any]:
    """The context block of cdk.json (feature flags, default stage).

    The CDK CLI passes it to the app itself; tests build the app without the CLI and get the same
    flags from here, so they synthesize what `cdk synth` would.
    """
    with (ROOT / "cdk.json").open(encoding="utf-8") as file:
        context = json.load(file).get("context", {})
    return dict(context)


def build_app(
    context: Mapping[str, Any] | None = None, assets: dict[str, Path] | None = None
) -> tuple[cdk.App, OpenLocStack]:
    """The App with the OpenLoc stack and the cdk-nag plugin.

    `context` overrides cdk.json's context (e.g. {"openloc:stage": "prod"}); context given on
    the CDK command line (`-c`) overrides both.
    """
    app = cdk.App(context={**cdk_json_context(), **(context or {})})
    # `-c stage=prod` (short) wins over the "openloc:stage" default of cdk.json.
    stage = str(app.node.try_get_context("stage") or app.node.try_get_context(STAGE_CONTEXT) or DEFAULT_STAGE)
    stack = OpenLocStack(
        app,
        STACK_ID,
        stage=stage,
        assets=assets,
        description=f"OpenLoc geolocation service ({stage})",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def placeholder_assets(stack: OpenLocStack) -> list[str]:
    """Names of the Lambda assets that are placeholders because `make package` has not run."""
    return sorted(name for name, path in stack.assets.items() if is_placeholder(path))


def main() -> None:
    app, stack = build_app()
    missing = placeholder_assets(stack)
    if missing:
        # Synthesizing still works (tests, reviewing the template); deploying this would ship empty code.
        print(
            f"WARNING: Lambda assets {', '.join(missing)} are placeholders: run `make package` "
            "before `cdk deploy`.",
            file=sys.stderr,
        )
    app.synth()


if __name__ == "__main__":
    main()
