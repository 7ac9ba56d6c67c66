"""Keys as secrets (redacted logs, digests in Redis and reports, compare_digest) and the CORS policy."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from openloc.api.app import CORS_MAX_AGE
from openloc.api.keys import KeyChecker, key_digest, redact
from openloc.api.services import Services
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.queue import MemoryObservationQueue
from starlette.testclient import TestClient

from tests.unit.test_app import reports_in, v2_item, wifi_body

SECRET_KEY = "s3cret-key-0123456789-abcdef"
Client = Callable[[Services], TestClient]


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


# --- CORS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/geolocate", "/v1/region", "/v2/geosubmit", "/v1/submit"])
def test_cors_preflight_is_answered_for_any_origin(client: TestClient, path: str) -> None:
    response = client.options(
        path,
        headers={
            "Origin": "https://maps.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, content-encoding",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "content-encoding" in allowed
    assert response.headers["access-control-max-age"] == str(CORS_MAX_AGE)
    assert "access-control-allow-credentials" not in response.headers


def test_cors_headers_on_answers_and_on_errors(client: TestClient) -> None:
    origin = {"Origin": "https://maps.example.org"}
    ok = client.post("/v1/geolocate?key=test", json=wifi_body(9, 10), headers=origin)
    error = client.post("/v1/geolocate", json={}, headers=origin)  # keyInvalid envelope
    assert (ok.status_code, error.status_code) == (200, 400)
    for response in (ok, error):
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


def test_cors_origins_can_be_restricted(make_services: Callable[..., Services], make_client: Client) -> None:
    client = make_client(make_services(settings=Settings(cors_allow_origins="https://a.example")))
    allowed = client.post(
        "/v1/geolocate?key=test", json=wifi_body(9, 10), headers={"Origin": "https://a.example"}
    )
    other = client.post(
        "/v1/geolocate?key=test", json=wifi_body(9, 10), headers={"Origin": "https://b.example"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://a.example"
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/v1/geolocate", headers={"Origin": "https://b.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 400
