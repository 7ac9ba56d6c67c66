"""The shared API-key cache: the `KeyCache` interface, Redis (Valkey) and in-memory implementations.

Entries are named by a digest of the key (`apikey:<digest>`, computed by the caller) and hold the
key's record *without the key*, or a marker for "no such key"; each expires after its TTL. The
cache never holds a key in full. Redis errors are logged and counted (`RedisErrors`); the cache
then answers "not cached" and the caller asks DynamoDB.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from openloc.model.records import ApiKeyRecord
from openloc.observability import logger, metrics

if TYPE_CHECKING:
    import redis

MISSING = "-"  # the cached marker for "no such key"


class KeyCache(Protocol):
    def get(self, digest: str) -> tuple[bool, ApiKeyRecord | None]:
        """(True, record) or (True, None) for a cached "no such key"; (False, None) when not cached.
        A cached record's `key` is empty: the caller knows the key."""
        ...

    def put(self, digest: str, record: ApiKeyRecord | None, ttl: int) -> None: ...


def _encode(record: ApiKeyRecord | None) -> str:
    return MISSING if record is None else json.dumps({**asdict(record), "key": ""})


def _decode(text: str) -> ApiKeyRecord | None:
    if text == MISSING:
        return None
    fields = json.loads(text)
    known = ApiKeyRecord.__dataclass_fields__
    return ApiKeyRecord(**{name: value for name, value in fields.items() if name in known})


def _name(digest: str) -> str:
    return f"apikey:{digest}"


class RedisKeyCache:
    def __init__(self, connection: Callable[[], redis.Redis | None]) -> None:
        self.connection = connection

    def get(self, digest: str) -> tuple[bool, ApiKeyRecord | None]:
        client = self.connection()
        if client is None:
            return False, None
        try:
            raw: Any = client.get(_name(digest))
        except Exception as error:  # redis errors and timeouts: continue without the cache
            logger.warning("redis unavailable for key cache", extra={"error": type(error).__name__})
            metrics.add_metric(name="RedisErrors", unit=MetricUnit.Count, value=1)
            return False, None
        if raw is None:
            return False, None
        return True, _decode(raw.decode() if isinstance(raw, bytes) else str(raw))

    def put(self, digest: str, record: ApiKeyRecord | None, ttl: int) -> None:
        client = self.connection()
        if client is None or ttl <= 0:
            return
        try:
            client.set(_name(digest), _encode(record), ex=ttl)
        except Exception as error:
            logger.warning("redis unavailable for key cache", extra={"error": type(error).__name__})
            metrics.add_metric(name="RedisErrors", unit=MetricUnit.Count, value=1)


class MemoryKeyCache:
    """The same entries in a dict (encoded as in Redis), expiring by `clock`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.entries: dict[str, tuple[str, float]] = {}

    def get(self, digest: str) -> tuple[bool, ApiKeyRecord | None]:
        entry = self.entries.get(_name(digest))
        if entry is None or entry[1] <= self.clock():
            return False, None
        return True, _decode(entry[0])

    def put(self, digest: str, record: ApiKeyRecord | None, ttl: int) -> None:
        if ttl > 0:
            self.entries[_name(digest)] = (_encode(record), self.clock() + ttl)


def with_key(record: ApiKeyRecord | None, key: str) -> ApiKeyRecord | None:
    """A cached record with its key filled back in."""
    return None if record is None else replace(record, key=key)
