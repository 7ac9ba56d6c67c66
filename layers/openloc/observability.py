"""Powertools Logger, Metrics and Tracer shared by every handler and the local stack.

Handlers put the Lambda decorators on these objects; domain code only emits metrics and logs
through them. Service name and namespace come from the standard Powertools environment
variables (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`).
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "openloc")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "OpenLoc")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
