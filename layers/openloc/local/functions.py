"""Load the Lambda handler modules from `functions/*/handler.py` and call them like Lambda does."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import openloc

Handler = Callable[[dict[str, Any], Any], Any]


def functions_dir() -> Path:
    configured = os.environ.get("OPENLOC_FUNCTIONS_DIR")
    if configured:
        return Path(configured)
    return Path(openloc.__file__).resolve().parents[2] / "functions"


def load_handler(name: str) -> Handler:
    """Import `functions/<name>/handler.py` (once) and return its `handler`."""
    module_name = f"openloc_function_{name}"
    path = functions_dir() / name / "handler.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = module.handler
    return handler


@dataclass
class LocalContext:
    """The attributes of a Lambda context object that Powertools and Mangum read."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def invoke(handler: Handler, name: str, event: dict[str, Any]) -> Any:
    """Call a handler as the Lambda runtime would (Mangum expects a current event loop)."""
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    return handler(event, LocalContext(function_name=f"openloc-{name}"))
