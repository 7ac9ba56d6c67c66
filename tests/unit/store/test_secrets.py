"""Secrets read at run time from Secrets Manager (moto in process): the stages, the cache, and
the fallback to the IP_HASH_KEY setting."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openloc.settings import Settings
from openloc.store import secrets
from openloc.store.secrets import (
    PENDING,
    PREVIOUS,
    SecretReader,
    SecretUnavailable,
    hash_key_source,
    origin_secret_source,
)


class CountingClient:
    """A Secrets Manager client that counts GetSecretValue calls."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = 0

    def get_secret_value(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self.client.get_secret_value(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def manager() -> Iterator[CountingClient]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield CountingClient(boto3.client("secretsmanager", region_name="us-east-1"))


def test_stages_are_read_and_cached(manager: CountingClient) -> None:
    arn = manager.create_secret(Name="origin", SecretString="first")["ARN"]
    reader = SecretReader(lambda: manager, arn, max_age=300)
    assert reader.values((secrets.CURRENT, PENDING, PREVIOUS)) == {"first"}  # no pending, no previous
    calls = manager.calls
    for _ in range(100):
        assert reader.value() == "first"
    assert manager.calls == calls  # served from the cache
    manager.put_secret_value(SecretId=arn, SecretString="second", VersionStages=[PENDING])
    assert reader.values((secrets.CURRENT, PENDING, PREVIOUS), fresh=True) == {"first", "second"}
    manager.put_secret_value(SecretId=arn, SecretString="third")  # becomes current, first previous
    assert reader.value(fresh=True) == "third"
    assert reader.value(PREVIOUS, fresh=True) == "first"


def test_an_unreadable_secret_raises(manager: CountingClient) -> None:
    reader = SecretReader(lambda: manager, "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope", 300)
    with pytest.raises(SecretUnavailable):
        reader.value()


def test_the_hash_key_comes_from_the_secret_when_configured(
    manager: CountingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert hash_key_source(Settings(ip_hash_key="from-env"))() == "from-env"
    arn = manager.create_secret(Name="hash", SecretString="from-secrets-manager")["ARN"]
    monkeypatch.setattr(secrets, "_secretsmanager", lambda: manager)
    source = hash_key_source(Settings(ip_hash_key="from-env", ip_hash_key_secret_arn=arn))
    assert source() == "from-secrets-manager"
    assert origin_secret_source(Settings()) is None
    origin = origin_secret_source(Settings(origin_secret_arn=arn))
    assert origin is not None and origin(False) == {"from-secrets-manager"}
