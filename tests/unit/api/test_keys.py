"""API keys: syntax, the key in the query string, lookup and its caches (process, Redis), and keys
as secrets (redacted in logs, digests in Redis and in reports, compare_digest)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from openloc.api.errors import ApiError
from openloc.api.keys import KeyChecker, key_digest, query_key, redact, valid_key_syntax
from openloc.api.services import Services
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.queue import MemoryObservationQueue
from starlette.requests import Request
from starlette.testclient import TestClient

from tests.unit.api.support import Client, assert_envelope, reports_in, v2_item, wifi_body

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
    assert query_key(request("key=a&key=b")) is None


# --- the key checker and its caches ---------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


class CountingStore(MemoryApiKeyStore):
    def __init__(self, *records: ApiKeyRecord) -> None:
        super().__init__(*records)
        self.gets = 0

    def get(self, key: str) -> ApiKeyRecord | None:
        self.gets += 1
        return super().get(key)


def test_key_checker_require() -> None:
    store = MemoryApiKeyStore(ApiKeyRecord(key="test"), ApiKeyRecord(key="nolocate", allow_locate=False))
    checker = KeyChecker(store, lambda: None, 300)
    assert checker.require("test", "allow_locate").key == "test"
    for key in (None, "", "bad key", "unknown"):
        with pytest.raises(ApiError) as info:
            checker.require(key, "allow_locate")
        assert info.value.reason == "keyInvalid" and info.value.status == 400
    with pytest.raises(ApiError):
        checker.require("nolocate", "allow_locate")
    assert checker.require("nolocate", "allow_submit").key == "nolocate"


def test_key_checker_caches_hits_and_misses_until_ttl() -> None:
    store = CountingStore(ApiKeyRecord(key="test"))
    clock = Clock()
    checker = KeyChecker(store, lambda: None, 300, clock=clock)
    assert checker.lookup("test") is not None
    assert checker.lookup("new") is None
    store.put(ApiKeyRecord(key="new"))
    assert checker.lookup("test") is not None
    assert checker.lookup("new") is None  # negative answer cached
    assert store.gets == 2
    clock.t += 301
    assert checker.lookup("new") is not None
    assert store.gets == 3


def test_key_checker_store_failure_is_503() -> None:
    class Broken(MemoryApiKeyStore):
        def get(self, key: str) -> ApiKeyRecord | None:
            raise ConnectionError("dynamodb down")

    with pytest.raises(ApiError) as info:
        KeyChecker(Broken(), lambda: None, 300).lookup("test")
    assert info.value.status == 503 and info.value.reason == "serviceUnavailable"


class FakeRedis:
    """Just enough of redis-py for the key cache."""

    def __init__(self, fail: bool = False) -> None:
        self.data: dict[str, Any] = {}
        self.fail = fail

    def get(self, name: str) -> Any:
        if self.fail:
            raise TimeoutError("redis")
        return self.data.get(name)

    def set(self, name: str, value: str, ex: int | None = None) -> None:
        if self.fail:
            raise TimeoutError("redis")
        self.data[name] = value.encode()


def test_key_checker_uses_redis_as_shared_cache() -> None:
    redis: Any = FakeRedis()
    first = KeyChecker(CountingStore(ApiKeyRecord(key="test", maxreq=5)), lambda: redis, 300)
    assert first.lookup("test") == ApiKeyRecord(key="test", maxreq=5)
    assert first.lookup("nope") is None
    second_store = CountingStore()  # empty: answers must come from redis
    second = KeyChecker(second_store, lambda: redis, 300)
    assert second.lookup("test") == ApiKeyRecord(key="test", maxreq=5)
    assert second.lookup("nope") is None
    assert second_store.gets == 0
    # the cache holds neither the key in its name nor in its value
    assert redis.data and not any("test" in name or b'"test"' in value for name, value in redis.data.items())


def test_key_checker_survives_redis_failure() -> None:
    broken: Any = FakeRedis(fail=True)
    checker = KeyChecker(MemoryApiKeyStore(ApiKeyRecord(key="test")), lambda: broken, 300)
    assert checker.lookup("test") is not None


# --- keys as secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["abcdefgh", "abcdef", "abcd", "abc"])
def test_redact_never_shows_the_whole_key(key: str) -> None:
    shown = redact(key)
    assert shown != key and not shown.startswith(key)
    assert redact(None) == "-" and redact("") == "-"


@pytest.mark.parametrize("key", ["ab", "a"])
def test_redact_short_keys(key: str) -> None:
    assert not redact(key).startswith(key)


class DictRedis:
    """The two Redis calls the key cache makes, on a dict."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def get(self, name: str) -> Any:
        return self.data.get(name)

    def set(self, name: str, value: str, ex: int | None = None) -> None:
        self.data[name] = value


@pytest.mark.parametrize(
    ("key", "shown"), [(None, "-"), ("", "-"), ("abc", "…"), ("abcdef", "ab…"), (SECRET_KEY, "s3cr…")]
)
def test_redact_never_shows_more_than_four_characters(key: str | None, shown: str) -> None:
    assert redact(key) == shown


def test_key_digest_is_keyed_and_stable() -> None:
    assert key_digest(SECRET_KEY, "a") == key_digest(SECRET_KEY, "a")
    assert key_digest(SECRET_KEY, "a") != key_digest(SECRET_KEY, "b")
    assert SECRET_KEY not in key_digest(SECRET_KEY, "a")


def test_redis_key_cache_holds_no_key_in_full() -> None:
    redis: Any = DictRedis()
    store = MemoryApiKeyStore(ApiKeyRecord(key=SECRET_KEY, maxreq=7))
    KeyChecker(store, lambda: redis, 300, hash_key="s").lookup(SECRET_KEY)
    KeyChecker(store, lambda: redis, 300, hash_key="s").lookup("unknown-key-987654321")
    assert redis.data  # both answers are cached...
    assert SECRET_KEY not in json.dumps(redis.data)  # ...under digests, without the key
    assert "unknown-key-987654321" not in json.dumps(redis.data)
    fresh = KeyChecker(MemoryApiKeyStore(), lambda: redis, 300, hash_key="s")  # served from Redis only
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

    checker = KeyChecker(CaseFolding(), lambda: None, 300)
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
