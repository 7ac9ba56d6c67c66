"""Fixtures shared by every test folder."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from openloc.observability import logger


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything the service's Powertools logger writes (its JSON lines), while the test runs."""
    handler: Any = logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)
