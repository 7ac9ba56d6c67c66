"""Body decompression, the error envelope, the OpenAPI document, API keys and daily limits."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from openloc.api import errors
from openloc.api.body import gunzip_limited
from openloc.api.errors import ApiError
from openloc.api.keys import KeyChecker, redact, valid_key_syntax
from openloc.api.locate_routes import locate_routes
from openloc.api.openapi import openapi_document
from openloc.api.services import Services
from openloc.api.submit_routes import submit_routes
from openloc.api.transfer_routes import transfer_routes
from openloc.model.records import ApiKeyRecord
from openloc.store.api_keys import MemoryApiKeyStore

# --- gunzip_limited -------------------------------------------------------------------------


def test_gunzip_round_trip_gzip_and_zlib() -> None:
    data = b'{"items": []}' * 100
    assert gunzip_limited(gzip.compress(data), 10_000) == data
    assert gunzip_limited(zlib.compress(data), 10_000) == data
    assert gunzip_limited(gzip.compress(data), len(data)) == data  # exactly at the limit


def test_gunzip_bomb_is_413() -> None:
    bomb = gzip.compress(b"0" * 1_000_000)
    with pytest.raises(ApiError) as info:
        gunzip_limited(bomb, 1_000)
    assert info.value.status == 413 and info.value.reason == "payloadTooLarge"


def test_gunzip_garbage_is_parse_error() -> None:
    with pytest.raises(ApiError) as info:
        gunzip_limited(b"\x1f\x8bnot really gzip", 1_000)
    assert (info.value.status, info.value.reason) == (400, "parseError")


# --- error envelope -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "status", "domain", "reason"),
    [
        (errors.parse_error, 400, "global", "parseError"),
        (errors.key_invalid, 400, "usageLimits", "keyInvalid"),
        (errors.daily_limit, 403, "usageLimits", "dailyLimitExceeded"),
        (errors.not_found, 404, "geolocation", "notFound"),
        (errors.unknown_path, 404, "global", "notFound"),
        (errors.payload_too_large, 413, "global", "payloadTooLarge"),
        (errors.service_unavailable, 503, "global", "serviceUnavailable"),
    ],
)
def test_error_envelope_shape(factory: Any, status: int, domain: str, reason: str) -> None:
    error: ApiError = factory()
    body = error.body()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"errors", "code", "message"}
    assert body["error"]["code"] == status == error.status
    (detail,) = body["error"]["errors"]
    assert detail == {"domain": domain, "reason": reason, "message": body["error"]["message"]}


def test_contract_messages() -> None:
    assert errors.key_invalid().message == "Missing or invalid API key."
    assert errors.parse_error().message == "Parse Error"
    assert errors.not_found().message == "Not found"
    assert errors.daily_limit().message == "You have exceeded your daily limit."
    assert errors.service_unavailable().message == "Service Unavailable"


def test_method_not_allowed_carries_allow_header() -> None:
    error = errors.method_not_allowed("POST")
    assert error.status == 405 and ("Allow", "POST") in error.headers


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_lists_post_paths_and_resolvable_refs(services: Services) -> None:
    doc = openapi_document()
    assert doc["openapi"].startswith("3.1")
    posts = {p for p, ops in doc["paths"].items() if "post" in ops}
    served = {
        route.path
        for route in [*locate_routes(services), *submit_routes(services), *transfer_routes(services)]
    }
    assert posts == served
    assert {"/v1/geolocate", "/v1/region", "/v1/country", "/v1/search", "/v2/geosubmit"} <= posts
    schemas = doc["components"]["schemas"]
    assert {"LocateRequest", "GeolocateResponse", "ErrorResponse", "GeosubmitRequest"} <= set(schemas)
    geolocate = doc["paths"]["/v1/geolocate"]["post"]
    assert geolocate["parameters"][0]["required"] is True
    assert doc["paths"]["/v2/geosubmit"]["post"]["parameters"][0]["required"] is False
    assert {"400", "404", "503"} <= set(geolocate["responses"])
    assert "204" in doc["paths"]["/v1/submit"]["post"]["responses"]

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas


# --- keys -----------------------------------------------------------------------------------


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


@pytest.mark.parametrize("key", ["abcdefgh", "abcdef", "abcd", "abc"])
def test_redact_never_shows_the_whole_key(key: str) -> None:
    shown = redact(key)
    assert shown != key and not shown.startswith(key)
    assert redact(None) == "-" and redact("") == "-"


@pytest.mark.parametrize("key", ["ab", "a"])
def test_redact_short_keys(key: str) -> None:
    assert not redact(key).startswith(key)


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
