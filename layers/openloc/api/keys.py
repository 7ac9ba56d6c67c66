"""API-key checks: syntax, lookup (process cache → Redis → DynamoDB) and permission per endpoint.

Redis is only a cache: any Redis error is logged and counted, and the lookup goes on to
DynamoDB. A DynamoDB failure answers 503 (the key cannot be checked, so nothing is served).

Keys are secrets: outside the api_keys table they appear only as `redact(key)` (logs) or as
`key_digest(key)` (the Redis cache entry's name, the attribution carried by submitted reports).
A key is found by lookup, never by scanning and comparing; the record found is confirmed with
`hmac.compare_digest`, so no code path compares a presented key byte by byte.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from openloc.api.errors import key_invalid, service_unavailable
from openloc.model.records import ApiKeyRecord
from openloc.observability import logger, metrics
from openloc.store.api_keys import ApiKeyStore

if TYPE_CHECKING:
    import redis
    from starlette.requests import Request

KEY_PATTERN = re.compile(r"[-0-9A-Za-z]{1,40}")
_MISSING = "-"  # cached marker for "no such key"


def valid_key_syntax(key: str | None) -> bool:
    return key is not None and bool(KEY_PATTERN.fullmatch(key))


def query_key(request: Request) -> str | None:
    """The `key` query parameter; None when absent or given more than once (`?key=a&key=b` is
    ambiguous: front ends disagree on which one wins, so neither is honoured)."""
    values = request.query_params.getlist("key")
    return values[0] if len(values) == 1 else None


def key_digest(key: str, hash_key: str) -> str:
    """A stable stand-in for a key in Redis names and in submitted reports (keyed BLAKE2b, 20 hex
    digits): not reversible without the deployment's hash key."""
    return hashlib.blake2b(key.encode(), key=hash_key.encode()[:64], digest_size=10).hexdigest()


def redact(key: str | None) -> str:
    """What logs may show of a key: never the whole of it."""
    if not key:
        return "-"
    shown = 4 if len(key) > 8 else 2 if len(key) > 4 else 0
    return key[:shown] + "…"


class KeyChecker:
    def __init__(
        self,
        store: ApiKeyStore,
        redis_client: Callable[[], redis.Redis | None],
        ttl_seconds: int,
        clock: Callable[[], float] = time.monotonic,
        hash_key: str = "openloc",
    ) -> None:
        self.store = store
        self.redis_client = redis_client
        self.ttl = ttl_seconds
        self.clock = clock
        self.hash_key = hash_key
        self._local: dict[str, tuple[float, ApiKeyRecord | None]] = {}

    def _from_redis(self, key: str) -> tuple[bool, ApiKeyRecord | None]:
        client = self.redis_client()
        if client is None:
            return False, None
        try:
            raw: Any = client.get(f"apikey:{key_digest(key, self.hash_key)}")
        except Exception as error:  # redis errors and timeouts: continue without the cache
            logger.warning("redis unavailable for key cache", extra={"error": type(error).__name__})
            metrics.add_metric(name="RedisErrors", unit=MetricUnit.Count, value=1)
            return False, None
        if raw is None:
            return False, None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        return True, None if text == _MISSING else ApiKeyRecord(**{**json.loads(text), "key": key})

    def _to_redis(self, key: str, record: ApiKeyRecord | None) -> None:
        client = self.redis_client()
        if client is None or self.ttl <= 0:
            return
        # The cached record leaves the key out: Redis holds no key in full, only its digest.
        try:
            value = _MISSING if record is None else json.dumps({**asdict(record), "key": None})
            client.set(f"apikey:{key_digest(key, self.hash_key)}", value, ex=self.ttl)
        except Exception as error:
            logger.warning("redis unavailable for key cache", extra={"error": type(error).__name__})
            metrics.add_metric(name="RedisErrors", unit=MetricUnit.Count, value=1)

    def lookup(self, key: str) -> ApiKeyRecord | None:
        now = self.clock()
        cached = self._local.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        found, record = self._from_redis(key)
        if not found:
            try:
                record = self.store.get(key)
            except Exception as error:
                logger.error(
                    "api key lookup failed", extra={"error": type(error).__name__, "key": redact(key)}
                )
                raise service_unavailable() from error
            self._to_redis(key, record)
        if record is not None and not hmac.compare_digest(record.key.encode(), key.encode()):
            record = None  # a store or cache that answered for another key never grants access
        self._local[key] = (now + self.ttl, record)
        return record

    def require(self, key: str | None, permission: str) -> ApiKeyRecord:
        """The key's record if it exists and has `permission` (e.g. "allow_locate"), else keyInvalid."""
        if not valid_key_syntax(key):
            raise key_invalid()
        assert key is not None
        record = self.lookup(key)
        if record is None or not getattr(record, permission):
            raise key_invalid()
        return record
