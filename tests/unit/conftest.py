"""Shared fixtures for the unit suite: in-memory services, the demo seed, an in-process client and
an in-process S3 (moto) with the assets bucket.

Plain helpers live next to the tests that share them: tests/unit/support.py (several packages),
tests/unit/<package>/support.py (one package) and tests/unit/small_world.py (a small simulated
world); the `log_lines` fixture is in tests/conftest.py."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from openloc.api.app import build_app
from openloc.api.services import Services
from openloc.ingest.demo_seed import seed_demo
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.queue import MemoryObservationQueue
from openloc.store.stations import MemoryStationStore

from tests.unit.support import BUCKET

with warnings.catch_warnings():
    # starlette.testclient warns that plain httpx is deprecated; irrelevant to what is tested here.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

settings.register_profile(
    "unit", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("unit")

FIXED_NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    # starlette.testclient warns that plain httpx is deprecated; irrelevant to what is tested here.
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture
def now_ms() -> int:
    """The wall clock in ms: submissions are checked against the real current time."""
    return int(datetime.now(UTC).timestamp() * 1000)


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def station_store() -> MemoryStationStore:
    return MemoryStationStore()


@pytest.fixture
def key_store() -> MemoryApiKeyStore:
    return MemoryApiKeyStore(ApiKeyRecord(key="test"))


@pytest.fixture
def queue() -> MemoryObservationQueue:
    return MemoryObservationQueue()


@pytest.fixture
def seeded(station_store: MemoryStationStore, key_store: MemoryApiKeyStore) -> MemoryStationStore:
    seed_demo(station_store, key_store)
    return station_store


@pytest.fixture
def make_services(
    seeded: MemoryStationStore, key_store: MemoryApiKeyStore, queue: MemoryObservationQueue
) -> Callable[..., Services]:
    def make(**overrides: Any) -> Services:
        values: dict[str, Any] = {
            "settings": Settings(),
            "stations": seeded,
            "api_keys": key_store,
            "queue": queue,
            "redis": lambda: None,
            "database_ping": lambda: None,
        }
        values.update(overrides)
        return Services(**values)

    return make


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


@pytest.fixture
def make_client() -> Callable[[Services], TestClient]:
    def make(services: Services) -> TestClient:
        # raise_server_exceptions=False: the test sees exactly what a real client would receive.
        return TestClient(build_app(services), raise_server_exceptions=False)

    return make


@pytest.fixture
def client(services: Services, make_client: Callable[[Services], TestClient]) -> TestClient:
    return make_client(services)


@pytest.fixture
def s3() -> Iterator[Any]:
    """An in-process S3 client (moto) with the empty assets bucket `BUCKET`."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
