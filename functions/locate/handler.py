"""Lambda entry point for the locate API (geolocate, search, heartbeats) behind API Gateway."""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum
from openloc.api.app import build_app
from openloc.api.services import aws_services, register_snapshot_warm_up
from openloc.observability import logger, metrics, tracer

services = aws_services()
asgi = Mangum(build_app(services, submit=False), lifespan="off")
register_snapshot_warm_up(services)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)  # no answer in traces (docs/privacy.md)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asgi(event, cast(Any, context))  # Mangum's own LambdaContext protocol
