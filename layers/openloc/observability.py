"""Powertools Logger, Metrics and Tracer shared by every handler and the local stack.

Handlers put the Lambda decorators on these objects; domain code only emits metrics and logs
through them. Service name and namespace come from the standard Powertools environment
variables (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`).

When tracing is off (`POWERTOOLS_TRACE_DISABLED=true`, or outside Lambda) the Tracer gets a
no-op provider: Powertools would otherwise import the X-Ray SDK (~310 ms of cold start) just to
disable it. With tracing on, the X-Ray provider is used as usual.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "openloc")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "OpenLoc")


class _NoopSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class NoopTracingProvider(BaseProvider):
    """A tracing provider that records nothing (used when tracing is disabled)."""

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoopSegment()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _NoopSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }
    return not disabled and bool(os.environ.get("LAMBDA_TASK_ROOT"))


logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = (
    Tracer(service=SERVICE)
    if tracing_enabled()
    else Tracer(service=SERVICE, provider=NoopTracingProvider(), disabled=False, auto_patch=False)
)
