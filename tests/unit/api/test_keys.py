"""API keys: syntax, the key in the query string, lookup and its caches (process, Redis), and keys
as secrets (redacted in logs, digests in Redis and in reports, compare_digest)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from openloc.api.errors import ApiError
from openloc.api.keys import AMBIGUOUS_KEY, KeyCachePolicy, key_digest, query_key, redact, valid_key_syntax
from openloc.api.services import Services
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.counters import MemoryCounters, RedisCounters, UnavailableCounters
from openloc.store.key_cache import MemoryKeyCache, RedisKeyCache
from openloc.store.queue import MemoryObservationQueue
from openloc.store.secrets import SecretUnavailable
from starlette.requests import Request
from starlette.testclient import TestClient

from tests.unit.api.support import (
    Client,
    CountingKeys,
    assert_envelope,
    key_checker,
    reports_in,
    v2_item,
    wifi_body,
)

SECRET_KEY = "s3cret-key-0123456789-abcdef"


# --- syntax and the query string ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("test", True),
        ("A-b-9", True),
        ("x" * 40, True),
        ("x" * 41, False),
        ("", False),
        (None, False),
        ("bad key", False),
        ("bad_key", False),
        ("ключ", False),
        ("test\n", False),
    ],
)
def test_valid_key_syntax(key: str | None, valid: bool) -> None:
    assert valid_key_syntax(key) is valid


@pytest.mark.parametrize(
    "query",
    [
        "key=test%00",
        "key=test%0d%0aX-Injected:%201",
        "key=te*",
        "key=test'--",
        "key=apikey:test",
        "key=test%20",
        "key=%E2%80%8Btest",  # zero-width space
        "key[]=test",
        "key=test&key=test",  # given twice: ambiguous, so refused
        "key=bad&key=test",
        "KEY=test",
        "key=" + "a" * 41,
        "key=" + "a" * 60_000,
    ],
)
def test_key_injection_and_overlong_keys_are_key_invalid(client: TestClient, query: str) -> None:
    response = client.post(f"/v1/geolocate?{query}", json=wifi_body(9, 10))
    assert_envelope(response, 400, "usageLimits", "keyInvalid")


def test_duplicated_key_on_submit_is_anonymous(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    assert (
        client.post("/v2/geosubmit?key=test&key=test", json={"items": [v2_item(now_ms)]}).status_code == 200
    )
    assert [r.get("api_key") for r in reports_in(queue)] == [None]


def test_query_key_takes_exactly_one_value() -> None:
    def request(query: str) -> Request:
        return Request({"type": "http", "query_string": query.encode(), "headers": []})

    assert query_key(request("key=abc")) == "abc"
    assert query_key(request("other=1&key=abc")) == "abc"
    assert query_key(request("")) is None
    assert query_key(request("key=a&key=b")) == AMBIGUOUS_KEY
    assert not valid_key_syntax(AMBIGUOUS_KEY)


# --- the key checker and its caches ---------------------------------------------------------------


class Clock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_key_checker_require() -> None:
    store = MemoryApiKeyStore(ApiKeyRecord(key="test"), ApiKeyRecord(key="nolocate", allow_locate=False))
    checker = key_checker(store)
    assert checker.require("test", "allow_locate").key == "test"
    for key in (None, "", "bad key", "unknown", AMBIGUOUS_KEY):
        with pytest.raises(ApiError) as info:
            checker.require(key, "allow_locate")
        assert info.value.reason == "keyInvalid" and info.value.status == 400
    with pytest.raises(ApiError):
        checker.require("nolocate", "allow_locate")
    assert checker.require("nolocate", "allow_submit").key == "nolocate"


def test_known_keys_are_cached_for_the_ttl_and_unknown_keys_only_briefly() -> None:
    store = CountingKeys(ApiKeyRecord(key="test"))
    clock = Clock()
    checker = key_checker(store, clock=clock, policy=KeyCachePolicy(ttl=300, negative_ttl=30))
    assert checker.lookup("test") is not None
    assert checker.lookup("new") is None
    store.put(ApiKeyRecord(key="new"))
    assert checker.lookup("test") is not None
    assert checker.lookup("new") is None  # the negative answer is cached...
    assert store.gets == 2
    clock.t += 31
    assert checker.lookup("new") is not None  # ...for the short negative TTL only
    assert checker.lookup("test") is not None
    assert store.gets == 3
    clock.t += 300
    assert checker.lookup("test") is not None
    assert store.gets == 4


def test_a_million_unknown_keys_leave_the_process_cache_at_its_bound() -> None:
    """The attack: 1 M distinct unknown keys grew the process cache by 213 MB, nothing evicted.
    Now the cache holds at most `size` entries (least recently used out), and a key in use stays."""
    store = MemoryApiKeyStore(ApiKeyRecord(key="test"))
    no_redis = RedisKeyCache(lambda: None)  # only the process cache is under test
    checker = key_checker(store, cache=no_redis, policy=KeyCachePolicy(size=10_000, unknown_per_minute=0))
    for i in range(1_000_000):
        checker.lookup(f"guess-{i:07d}")
        if i % 5_000 == 0:
            assert checker.lookup("test") is not None  # in use: kept at the young end
        assert len(checker.local) <= 10_000
    assert len(checker.local) == 10_000
    found, _ = checker.local.get("test", 0.0)
    assert found
    assert not checker.local.get("guess-0000000", 0.0)[0]  # the oldest were evicted


def test_unknown_keys_past_the_address_limit_are_refused_without_a_database_read() -> None:
    """The attack: every distinct unknown key cost a DynamoDB GetItem and a Redis SET before any
    limit applied. Now an address gets LIMIT_INVALID_KEYS_PER_MINUTE unknown keys a minute; past
    that, keys no cache knows are refused (429, Retry-After) before DynamoDB is asked."""
    store = CountingKeys(ApiKeyRecord(key="test"))
    cache = MemoryKeyCache()
    wall = Clock(1_800_000_030.0)
    checker = key_checker(store, cache=cache, policy=KeyCachePolicy(unknown_per_minute=20), wall_clock=wall)
    attacker, other = "198.51.100.66", "2001:db8:7:8::1"
    for i in range(20):
        assert checker.lookup(f"guess-{i}", attacker) is None
    assert store.gets == 20
    for i in range(20, 1_000):
        with pytest.raises(ApiError) as info:
            checker.lookup(f"guess-{i}", attacker)
        assert (info.value.status, info.value.reason) == (429, "rateLimitExceeded")
        assert dict(info.value.headers)["Retry-After"] == "30"
    assert store.gets == 20  # not one more database read
    assert len(cache.entries) == 20  # nor a shared-cache write
    # the limit is per address: another address still reaches the database
    assert checker.lookup("guess-5000", other) is None and store.gets == 21
    # an IPv6 attacker counts by its /64: rotating addresses inside it does not help
    for i in range(19):
        checker.lookup(f"v6-{i}", f"2001:db8:7:8::{i + 2:x}")
    with pytest.raises(ApiError):
        checker.lookup("v6-next", "2001:db8:7:8:ffff::9")
    wall.t += 60  # a new minute: a new allowance
    assert checker.lookup("guess-next-minute", attacker) is None


def test_a_known_key_is_served_to_an_address_over_the_unknown_key_limit() -> None:
    store = MemoryApiKeyStore(ApiKeyRecord(key="test"))
    checker = key_checker(store, policy=KeyCachePolicy(unknown_per_minute=3))
    assert checker.lookup("test") is not None  # cached before the flood
    for i in range(3):
        checker.lookup(f"guess-{i}", "198.51.100.1")
    with pytest.raises(ApiError):
        checker.lookup("guess-3", "198.51.100.1")
    assert checker.require("test", "allow_locate", "198.51.100.1").key == "test"


def test_unknown_key_limit_is_fail_soft_without_counters() -> None:
    store = CountingKeys()
    checker = key_checker(store, counters=UnavailableCounters(), policy=KeyCachePolicy(unknown_per_minute=1))
    for i in range(50):
        assert checker.lookup(f"guess-{i}", "198.51.100.1") is None
    assert store.gets == 50


def test_key_checker_store_failure_is_503() -> None:
    class Broken(MemoryApiKeyStore):
        def get(self, key: str) -> ApiKeyRecord | None:
            raise ConnectionError("dynamodb down")

    with pytest.raises(ApiError) as info:
        key_checker(Broken()).lookup("test")
    assert info.value.status == 503 and info.value.reason == "serviceUnavailable"


def test_key_checker_uses_the_shared_cache() -> None:
    shared = MemoryKeyCache()
    first = key_checker(CountingKeys(ApiKeyRecord(key="test", maxreq=5)), cache=shared)
    assert first.lookup("test") == ApiKeyRecord(key="test", maxreq=5)
    assert first.lookup("nope") is None
    second_store = CountingKeys()  # empty: answers must come from the shared cache
    second = key_checker(second_store, cache=shared)
    assert second.lookup("test") == ApiKeyRecord(key="test", maxreq=5)
    assert second.lookup("nope") is None
    assert second_store.gets == 0
    # the cache holds neither the key in its names nor in its values
    assert shared.entries
    assert not any("test" in name or '"test"' in value for name, (value, _) in shared.entries.items())


def test_key_checker_survives_redis_failure() -> None:
    class Broken:
        def get(self, name: str) -> Any:
            raise TimeoutError("redis")

        def set(self, name: str, value: str, ex: int | None = None) -> None:
            raise TimeoutError("redis")

        def mget(self, names: list[str]) -> Any:
            raise TimeoutError("redis")

        def register_script(self, script: str) -> Any:
            raise TimeoutError("redis")

    broken: Any = Broken()
    checker = key_checker(
        MemoryApiKeyStore(ApiKeyRecord(key="test")),
        cache=RedisKeyCache(lambda: broken),
        counters=RedisCounters(lambda: broken),
    )
    assert checker.lookup("test", "198.51.100.1") is not None
    assert checker.lookup("unknown", "198.51.100.1") is None


# --- keys as secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["abcdefgh", "abcdef", "abcd", "abc"])
def test_redact_never_shows_the_whole_key(key: str) -> None:
    shown = redact(key)
    assert shown != key and not shown.startswith(key)
    assert redact(None) == "-" and redact("") == "-"


@pytest.mark.parametrize("key", ["ab", "a"])
def test_redact_short_keys(key: str) -> None:
    assert not redact(key).startswith(key)


@pytest.mark.parametrize(
    ("key", "shown"), [(None, "-"), ("", "-"), ("abc", "…"), ("abcdef", "ab…"), (SECRET_KEY, "s3cr…")]
)
def test_redact_never_shows_more_than_four_characters(key: str | None, shown: str) -> None:
    assert redact(key) == shown


def test_key_digest_is_keyed_and_stable() -> None:
    assert key_digest(SECRET_KEY, "a") == key_digest(SECRET_KEY, "a")
    assert key_digest(SECRET_KEY, "a") != key_digest(SECRET_KEY, "b")
    assert SECRET_KEY not in key_digest(SECRET_KEY, "a")


def test_shared_key_cache_holds_no_key_in_full() -> None:
    shared = MemoryKeyCache()
    store = MemoryApiKeyStore(ApiKeyRecord(key=SECRET_KEY, maxreq=7))
    key_checker(store, cache=shared, hash_key="s").lookup(SECRET_KEY)
    key_checker(store, cache=shared, hash_key="s").lookup("unknown-key-987654321")
    assert len(shared.entries) == 2  # both answers are cached...
    assert SECRET_KEY not in json.dumps(shared.entries)  # ...under digests, without the key
    assert "unknown-key-987654321" not in json.dumps(shared.entries)
    fresh = key_checker(MemoryApiKeyStore(), cache=shared, hash_key="s")  # served from the cache only
    record = fresh.lookup(SECRET_KEY)
    assert record is not None and (record.key, record.maxreq) == (SECRET_KEY, 7)


def test_a_record_for_another_key_is_never_accepted() -> None:
    """The record found is confirmed with compare_digest: a store answering for a different key
    (a case-folding index, a corrupted cache) grants nothing."""

    class CaseFolding:
        def get(self, key: str) -> ApiKeyRecord | None:
            return ApiKeyRecord(key=key.lower())

        def put(self, record: ApiKeyRecord) -> None: ...

        def delete(self, key: str) -> None: ...

    checker = key_checker(CaseFolding())
    assert checker.lookup("abc") is not None
    assert checker.lookup("ABC") is None


def test_logs_never_hold_a_key_in_full(
    make_services: Callable[..., Services],
    make_client: Client,
    key_store: MemoryApiKeyStore,
    now_ms: int,
    log_lines: io.StringIO,
) -> None:
    key_store.put(ApiKeyRecord(key=SECRET_KEY))
    client = make_client(make_services())
    assert (
        client.post(f"/v2/geosubmit?key={SECRET_KEY}", json={"items": [v2_item(now_ms)]}).status_code == 200
    )
    assert client.post(f"/v1/geolocate?key={SECRET_KEY}", json=wifi_body(9, 10)).status_code == 200

    class Failing:
        def get(self, key: str) -> ApiKeyRecord | None:
            raise ConnectionError("DynamoDB unreachable")

        def put(self, record: ApiKeyRecord) -> None: ...

        def delete(self, key: str) -> None: ...

    failing = make_client(make_services(api_keys=Failing()))
    assert failing.post(f"/v1/geolocate?key={SECRET_KEY}", json=wifi_body(9, 10)).status_code == 503
    logged = log_lines.getvalue()
    assert "submission accepted" in logged and "api key lookup failed" in logged
    assert SECRET_KEY not in logged
    assert redact(SECRET_KEY) in logged


def test_reports_carry_a_key_digest_not_the_key(
    make_services: Callable[..., Services],
    make_client: Client,
    key_store: MemoryApiKeyStore,
    queue: MemoryObservationQueue,
    now_ms: int,
) -> None:
    key_store.put(ApiKeyRecord(key=SECRET_KEY))
    client = make_client(make_services())
    client.post(f"/v2/geosubmit?key={SECRET_KEY}", json={"items": [v2_item(now_ms)]})
    assert [r["api_key"] for r in reports_in(queue)] == [key_digest(SECRET_KEY, Settings().ip_hash_key)]
    assert SECRET_KEY not in json.dumps(queue.messages)


def test_an_unreadable_hash_key_is_a_503_never_a_guess(
    make_services: Callable[..., Services], make_client: Client, now_ms: int
) -> None:
    """Without the IP hash key (Secrets Manager down) no digest can be computed: keyed and
    keyless locate requests and submissions are answered 503, not served under another key."""

    def unreadable() -> str:
        raise SecretUnavailable("secrets manager down")

    client = make_client(
        make_services(
            settings=Settings(openloc_key_policy="optional", trusted_proxy_hops=1),
            hash_key=unreadable,
            counters=MemoryCounters(),
        )
    )
    responses = [
        client.post("/v1/geolocate?key=test", json=wifi_body(9, 10)),
        client.post(
            "/v1/geolocate",
            json=wifi_body(9, 10),
            headers={"User-Agent": "microG/0.3", "X-Forwarded-For": "1.2.3.4"},
        ),
        client.post("/v2/geosubmit", json={"items": [v2_item(now_ms)]}),
    ]
    for response in responses:
        assert_envelope(response, 503, "global", "serviceUnavailable")
