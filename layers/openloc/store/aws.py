"""boto3 clients built from settings (endpoint, region, short timeouts), one per service and process."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from openloc.settings import get_settings


@lru_cache(maxsize=8)
def client(service: str) -> Any:
    """A boto3 client; `AWS_ENDPOINT_URL` (the local moto server) applies when set."""
    import boto3  # deferred: ~100 ms with botocore, paid on first use (or in the SnapStart hook)
    from botocore.config import Config

    settings = get_settings()
    factory: Any = boto3.client  # the service name is dynamic, so no per-service overload applies
    return factory(
        service,
        region_name=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}),
    )
