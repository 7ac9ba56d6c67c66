"""The OpenLoc stack: composes the per-concern constructs (storage now; api, pipeline, schedule,
cdn and alarms follow)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra.storage import Storage

STAGE_CONTEXT = "openloc:stage"
DEFAULT_STAGE = "dev"


class OpenLocStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.stage = stage
        cdk.Tags.of(self).add("project", "openloc")
        cdk.Tags.of(self).add("stage", stage)

        self.storage = Storage(self, "Storage", stage=stage)
