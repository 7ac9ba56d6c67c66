"""API keys in DynamoDB (moto in process) and the in-memory twin: the budgets stored with a key,
and items written before the current schema."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from openloc.local.resources import create_tables
from openloc.model.records import DEFAULT_MAXSUBMIT, ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import ApiKeyStore, DynamoApiKeyStore, MemoryApiKeyStore


@pytest.fixture
def dynamo() -> Iterator[tuple[DynamoApiKeyStore, str]]:
    with mock_aws():
        settings = Settings()
        create_tables(boto3.client("dynamodb", region_name=settings.aws_region), settings)
        yield DynamoApiKeyStore.from_settings(settings), settings.api_keys_table


def test_budgets_and_permissions_round_trip(dynamo: tuple[DynamoApiKeyStore, str]) -> None:
    stores: list[ApiKeyStore] = [dynamo[0], MemoryApiKeyStore()]
    for store in stores:
        record = ApiKeyRecord(key="k1", maxreq=5, maxsubmit=0, allow_transfer=True, shortname="peer")
        store.put(record)
        assert store.get("k1") == record
        store.put(ApiKeyRecord(key="k2"))
        assert store.get("k2") == ApiKeyRecord(key="k2", maxsubmit=DEFAULT_MAXSUBMIT)


def test_an_item_from_before_submit_budgets_gets_the_default_and_loses_allow_fallback(
    dynamo: tuple[DynamoApiKeyStore, str],
) -> None:
    """Items written by earlier versions have no maxsubmit (so they are not unlimited: they get
    the default budget) and may carry Ichnaea's allow_fallback, which nothing reads any more."""
    store, table = dynamo
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=table,
        Item={
            "key": {"S": "old-key"},
            "maxreq": {"N": "100"},
            "allow_locate": {"BOOL": True},
            "allow_region": {"BOOL": True},
            "allow_fallback": {"BOOL": True},
            "allow_submit": {"BOOL": True},
            "allow_transfer": {"BOOL": False},
        },
    )
    assert store.get("old-key") == ApiKeyRecord(key="old-key", maxreq=100, maxsubmit=DEFAULT_MAXSUBMIT)
