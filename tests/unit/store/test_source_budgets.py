"""Daily new-station budgets per source: DynamoDB (moto in process) and the in-memory twin agree."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from openloc.local.resources import create_tables
from openloc.settings import Settings
from openloc.store.source_budgets import DynamoSourceBudgets, MemorySourceBudgets, SourceBudgets


@pytest.fixture
def dynamo() -> Iterator[DynamoSourceBudgets]:
    with mock_aws():
        settings = Settings()
        create_tables(boto3.client("dynamodb", region_name=settings.aws_region), settings)
        yield DynamoSourceBudgets.from_settings(settings)


def test_budgets_add_atomically_per_source_and_day(dynamo: DynamoSourceBudgets) -> None:
    stores: list[SourceBudgets] = [dynamo, MemorySourceBudgets()]
    for store in stores:
        assert store.spend("s1", "2026-11-23", {"single": 3, "fresh": 5}) == {"single": 3, "fresh": 5}
        assert store.spend("s1", "2026-11-23", {"single": 1, "fresh": 1}) == {"single": 4, "fresh": 6}
        assert store.spend("s1", "2026-11-23", {"held": 2}) == {"held": 2}
        assert store.spend("s1", "2026-11-24", {"fresh": 1}) == {"fresh": 1}  # a new day
        assert store.spend("s2", "2026-11-23", {"fresh": 7}) == {"fresh": 7}  # another source
    item = dynamo.models.SourceBudgetModel.get("s1#2026-11-23")
    assert item.expires is not None and item.expires.date().isoformat() == "2026-11-26"
