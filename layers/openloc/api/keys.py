"""API-key checks: syntax, lookup and permission per endpoint.

A lookup goes: the process cache (bounded: least recently used keys out past `API_KEY_CACHE_SIZE`
entries, each for its TTL) → the shared cache in Redis (`openloc.store.key_cache`) → DynamoDB.
Known keys are kept `API_KEY_CACHE_SECONDS`, unknown keys only `API_KEY_NEGATIVE_CACHE_SECONDS`
(a new key works within that time). Before DynamoDB is asked about a key no cache knows, the
caller's address must be within `LIMIT_INVALID_KEYS_PER_MINUTE` unknown keys this minute
(counted in Redis under a hash of the address): past it the answer is `429 rateLimitExceeded`
without a database read, so guessing keys costs the guesser, not the service.

Redis is only a cache and a counter: any Redis error is logged and counted, and the lookup goes
on to DynamoDB (without the unknown-key limit). A DynamoDB failure answers 503 (the key cannot
be checked, so nothing is served).

Keys are secrets: outside the api_keys table they appear only as `redact(key)` (logs) or as
`key_digest(key)` (the Redis cache entry's name, the attribution carried by submitted reports).
A key is found by lookup, never by scanning and comparing; the record found is confirmed with
`hmac.compare_digest`, so no code path compares a presented key byte by byte.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from openloc.api.client_ip import address_group, ip_digest
from openloc.api.errors import key_invalid, rate_limited, service_unavailable
from openloc.model.records import ApiKeyRecord
from openloc.observability import logger, metrics
from openloc.store.api_keys import ApiKeyStore
from openloc.store.counters import CounterStore
from openloc.store.key_cache import KeyCache, with_key

if TYPE_CHECKING:
    from starlette.requests import Request

KEY_PATTERN = re.compile(r"[-0-9A-Za-z]{1,40}")
# What `query_key` answers for `?key=a&key=b`: not a valid key, so it is refused as one.
AMBIGUOUS_KEY = ","
MINUTE_SECONDS = 60


def valid_key_syntax(key: str | None) -> bool:
    return key is not None and bool(KEY_PATTERN.fullmatch(key))


def query_key(request: Request) -> str | None:
    """The `key` query parameter; None when absent. Given more than once (`?key=a&key=b`, front
    ends disagree on which one wins) it is AMBIGUOUS_KEY, which no key matches: a locate request
    gets keyInvalid, in every key policy, and a submission is not attributed."""
    values = request.query_params.getlist("key")
    if len(values) > 1:
        return AMBIGUOUS_KEY
    return values[0] if values else None


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


@dataclass(frozen=True)
class KeyCachePolicy:
    """Seconds a known / unknown key is cached, process cache entries, unknown keys per address
    and minute before DynamoDB is no longer asked (0 = no such limit)."""

    ttl: int = 300
    negative_ttl: int = 30
    size: int = 10_000
    unknown_per_minute: int = 20


class LocalKeyCache:
    """The process cache: at most `size` entries, least recently used out first, each with a TTL."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[float, ApiKeyRecord | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, now: float) -> tuple[bool, ApiKeyRecord | None]:
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry[0] <= now:
            del self._entries[key]
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def put(self, key: str, record: ApiKeyRecord | None, expires: float) -> None:
        self._entries[key] = (expires, record)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


class KeyChecker:
    def __init__(
        self,
        store: ApiKeyStore,
        cache: KeyCache,
        counters: CounterStore,
        policy: KeyCachePolicy,
        hash_key: Callable[[], str],
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.cache = cache
        self.counters = counters
        self.policy = policy
        self.hash_key = hash_key
        self.clock = clock
        self.wall_clock = wall_clock
        self.local = LocalKeyCache(policy.size)

    def digest(self, key: str) -> str:
        return key_digest(key, self.hash_key())

    def _unknown_counter(self, ip: str | None) -> tuple[str, int] | None:
        """The name of `ip`'s unknown-key counter this minute and the seconds left in it."""
        if ip is None or self.policy.unknown_per_minute <= 0:
            return None
        now = int(self.wall_clock())
        name = f"badkey:{{{ip_digest(address_group(ip), self.hash_key())}}}:m{now // MINUTE_SECONDS}"
        return name, MINUTE_SECONDS - now % MINUTE_SECONDS

    def _refuse_unknown_flood(self, ip: str | None) -> None:
        counter = self._unknown_counter(ip)
        if counter is None:
            return
        counts = self.counters.read([counter[0]])
        if counts is not None and counts[0] >= self.policy.unknown_per_minute:
            metrics.add_metric(name="UnknownKeyLimitExceeded", unit=MetricUnit.Count, value=1)
            raise rate_limited(counter[1], who="this address with unknown API keys")

    def _count_unknown(self, ip: str | None) -> None:
        counter = self._unknown_counter(ip)
        if counter is not None:
            self.counters.add([counter[0]], [2 * MINUTE_SECONDS])

    def _ttl(self, record: ApiKeyRecord | None) -> int:
        return self.policy.ttl if record is not None else min(self.policy.negative_ttl, self.policy.ttl)

    def lookup(self, key: str, ip: str | None = None) -> ApiKeyRecord | None:
        """The key's record, None for an unknown key; 429 past the unknown-key limit of `ip`."""
        now = self.clock()
        found, record = self.local.get(key, now)
        if found:
            return record
        digest = self.digest(key)
        found, record = self.cache.get(digest)
        if found:
            record = with_key(record, key)
        else:
            self._refuse_unknown_flood(ip)
            try:
                record = self.store.get(key)
            except Exception as error:
                logger.error(
                    "api key lookup failed", extra={"error": type(error).__name__, "key": redact(key)}
                )
                raise service_unavailable() from error
            self.cache.put(digest, record, self._ttl(record))
        if record is not None and not hmac.compare_digest(record.key.encode(), key.encode()):
            record = None  # a store or cache that answered for another key never grants access
        if record is None:
            self._count_unknown(ip)
        if self._ttl(record) > 0:
            self.local.put(key, record, now + self._ttl(record))
        return record

    def require(self, key: str | None, permission: str, ip: str | None = None) -> ApiKeyRecord:
        """The key's record if it exists and has `permission` (e.g. "allow_locate"), else keyInvalid."""
        if not valid_key_syntax(key):
            raise key_invalid()
        assert key is not None
        record = self.lookup(key, ip)
        if record is None or not getattr(record, permission):
            raise key_invalid()
        return record
