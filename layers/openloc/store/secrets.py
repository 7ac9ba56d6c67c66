"""Secrets the functions read at run time from AWS Secrets Manager (never from their environment).

- the IP hash key (`IP_HASH_KEY_SECRET_ARN`): the key of the hashes that stand for client
  addresses and API keys in Redis and in submitted reports. Without the ARN (tests, a plain local
  run) the `IP_HASH_KEY` setting is used instead.
- the origin secret (`ORIGIN_SECRET_ARN`): the value CloudFront sends as `X-Origin-Verify`
  (`openloc.api.origin`); the rotation function (`openloc.store.origin_rotation`) changes it.

Reads go through Powertools Parameters, cached for `SECRETS_CACHE_SECONDS` per process, so a
request costs no Secrets Manager call once the cache is warm. One provider per version stage:
Powertools caches by secret name only, so each stage gets its own provider (and cache).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from openloc.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"
ORIGIN_STAGES = (CURRENT, PENDING, PREVIOUS)


class SecretUnavailable(RuntimeError):
    """Secrets Manager did not answer with the secret (the request cannot be served safely)."""


class SecretReader:
    """Cached reads of one secret's version stages (`client` is a boto3 Secrets Manager client)."""

    def __init__(self, client: Callable[[], Any], secret_id: str, max_age: int) -> None:
        self.client = client
        self.secret_id = secret_id
        self.max_age = max_age
        self._providers: dict[str, SecretsProvider] = {}

    def _provider(self, stage: str) -> SecretsProvider:
        provider = self._providers.get(stage)
        if provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            provider = self._providers[stage] = SecretsProvider(boto3_client=self.client())
        return provider

    def value(self, stage: str = CURRENT, *, required: bool = True, fresh: bool = False) -> str | None:
        """The secret's value at `stage` (`fresh`: bypassing the cache); None for a stage the
        secret does not have (when not `required`). Raises SecretUnavailable when Secrets Manager
        fails."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self._provider(stage).get(
                self.secret_id, max_age=self.max_age, force_fetch=fresh, VersionStage=stage
            )
        except GetParameterError as error:
            if not required and "ResourceNotFoundException" in str(error):
                return None  # e.g. no AWSPENDING outside a rotation
            raise SecretUnavailable(f"secret {stage} unreadable: {type(error).__name__}") from error
        if isinstance(value, bytes):
            value = value.decode()
        return str(value) if value is not None else None

    def values(self, stages: tuple[str, ...], fresh: bool = False) -> frozenset[str]:
        """The values of every existing stage among `stages`."""
        found = (self.value(stage, required=stage == CURRENT, fresh=fresh) for stage in stages)
        return frozenset(value for value in found if value)


def _secretsmanager() -> Any:
    from openloc.store.aws import client

    return client("secretsmanager")


def hash_key_source(settings: Settings) -> Callable[[], str]:
    """The IP hash key: from IP_HASH_KEY_SECRET_ARN when set (cached), else the IP_HASH_KEY setting."""
    if not settings.ip_hash_key_secret_arn:
        fixed = settings.ip_hash_key
        return lambda: fixed
    reader = SecretReader(_secretsmanager, settings.ip_hash_key_secret_arn, settings.secrets_cache_seconds)

    def read() -> str:
        value = reader.value()
        if not value:
            raise SecretUnavailable("the IP hash key secret is empty")
        return value

    return read


def origin_secret_source(settings: Settings) -> Callable[[bool], frozenset[str]] | None:
    """The origin secret's accepted values, `source(fresh)` (None when the API is not behind
    CloudFront)."""
    if not settings.origin_secret_arn:
        return None
    reader = SecretReader(_secretsmanager, settings.origin_secret_arn, settings.secrets_cache_seconds)
    return lambda fresh: reader.values(ORIGIN_STAGES, fresh=fresh)
