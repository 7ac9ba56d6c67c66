"""Fixtures of the CLI tests: the commands run against DynamoDB tables of an in-process moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openloc.settings import Settings, get_settings


def _reset() -> None:
    from openloc.store.aws import client

    get_settings.cache_clear()
    client.cache_clear()


@pytest.fixture
def moto_tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The stack's tables (store/tables.py specs) in an in-process moto, named by the environment
    as `openloc run` or a deployment would name them; the settings the commands will read."""
    from moto import mock_aws
    from openloc.local.resources import create_tables
    from openloc.store.aws import client

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("STATIONS_TABLE", "cli-stations")
    monkeypatch.setenv("CELL_AREAS_TABLE", "cli-cell-areas")
    with mock_aws():
        _reset()
        settings = get_settings()
        create_tables(client("dynamodb"), settings)
        try:
            yield settings
        finally:
            _reset()
    monkeypatch.undo()
    from openloc.store.pynamodb_tables import bind_models

    bind_models(get_settings())
