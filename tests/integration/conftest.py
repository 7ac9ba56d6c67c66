"""The embedded local stack as a fixture: real moto server, real Valkey, real Lambda handlers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from openloc.local.stack import LocalStack

pytestmark = pytest.mark.integration

# Tests choose their GeoIP data; the DB-IP file `make run` installs must not leak in.
NO_GEOIP = {"GEOIP_PATH": ""}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """A fresh stack per test module (no data dir: nothing persists), on an ephemeral port."""
    with LocalStack(data_dir=None, port=0, run_scheduler=False, visibility_timeout=1, env=NO_GEOIP) as local:
        yield local


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=20) as client:
        yield client


Waiter = Callable[..., Any]


def _wait_for(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll until `condition()` is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


@pytest.fixture
def wait_for() -> Waiter:
    return _wait_for
