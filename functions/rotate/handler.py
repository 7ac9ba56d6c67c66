"""Lambda entry point of the origin secret's rotation: Secrets Manager calls it once per step
(`openloc.store.origin_rotation`), on the schedule of the secret's rotation (infra/origin.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from openloc.observability import logger
from openloc.settings import get_settings
from openloc.store.aws import client
from openloc.store.origin_rotation import OriginSecretRotation

rotation = OriginSecretRotation(
    secrets=client("secretsmanager"),
    cloudfront=client("cloudfront"),
    distribution_id=get_settings().origin_distribution_id,
)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    rotation.run(event)
