"""The issue's attacks, replayed against the local stack as `make run` runs it (optional key
policy, real Valkey, moto, the API Gateway emulation), with the reproduction's settings: every
`LIMIT_*` at 5/5/2/2. Each test does what the attacker did and checks the answer now holds."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
import redis
from openloc.local.stack import LocalStack
from openloc.model.records import ApiKeyRecord
from openloc.store.api_keys import DynamoApiKeyStore
from openloc.store.counters import MemoryCounters, RedisCounters
from openloc.store.key_cache import MemoryKeyCache, RedisKeyCache
from openloc.store.pynamodb_tables import bind_models

from tests.integration.conftest import NO_GEOIP

pytestmark = pytest.mark.integration

WIFI = {"wifiAccessPoints": [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]}
BUDGETED_KEY = "budgeted-submitter-01"


@pytest.fixture(scope="module")
def hostile_stack() -> Iterator[LocalStack]:
    env = {
        **NO_GEOIP,
        "OPENLOC_KEY_POLICY": "optional",
        "LIMIT_CLIENT_PER_MINUTE": "5",
        "LIMIT_AGENT_PER_DAY": "5",
        "LIMIT_IP_PER_MINUTE": "2",
        "LIMIT_IP_PER_DAY": "2",
        "SUBMIT_IP_LIMIT_PER_MINUTE": "3",
    }
    local = LocalStack(data_dir=None, port=0, run_poller=False, run_scheduler=False, env=env)
    with local:
        bind_models(local.settings)
        DynamoApiKeyStore().put(ApiKeyRecord(key=BUDGETED_KEY, maxsubmit=8))
        yield local


@pytest.fixture
def api(hostile_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hostile_stack.url, timeout=20) as client:
        yield client


def locate(
    api: httpx.Client, ip: str, agent: str, path: str = "/v1/geolocate", query: str = ""
) -> httpx.Response:
    return api.post(f"{path}{query}", json=WIFI, headers={"X-Forwarded-For": ip, "User-Agent": agent})


def test_rotating_the_user_agent_buys_no_budget(api: httpx.Client) -> None:
    """`-A "Client$i/1.0"` got 30 × 200, and `Client/$i.0` a fresh budget each time."""
    codes = [locate(api, "198.51.100.40", f"Client{i}/1.0").status_code for i in range(30)]
    assert codes == [200, 200] + [429] * 28
    codes = [locate(api, "198.51.100.41", f"Client/{i}.0").status_code for i in range(10)]
    assert codes == [200, 200] + [429] * 8
    # rotating addresses inside one IPv6 /64 is one address
    codes = [locate(api, f"2001:db8:40:1::{i + 1:x}", f"Client{i}/1.0").status_code for i in range(6)]
    assert codes == [200, 200] + [429] * 4
    # the same User-Agent from its own address is still served
    assert locate(api, "198.51.100.42", "Client0/1.0").status_code == 200


def test_a_key_given_twice_is_key_invalid(api: httpx.Client) -> None:
    """`?key=bad1&key=bad2` was answered as a keyless request."""
    for query in ("?key=bad1&key=bad2", "?key=test&key=test"):
        response = locate(api, "198.51.100.43", "microG/0.3", query=query)
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0]["reason"] == "keyInvalid"


def test_unicode_digits_in_the_offline_path_are_a_404_not_a_503(api: httpx.Client) -> None:
    """`GET /v1/offline/mcc-%C2%B2` answered 503 ('²'.isdigit(), int('²') raises), and so did a
    4 400-digit MCC: an unauthenticated, unthrottled 5xx."""
    for region in ("mcc-²", "mcc-٢٦٢", "²⁶²", "mcc-" + "9" * 4_400, "9" * 4_400):
        response = api.get("/v1/offline/" + quote(region, safe=""))
        assert response.status_code == 404, region
        assert response.json()["error"]["errors"][0]["reason"] == "notFound"


def test_unknown_keys_cost_a_bounded_number_of_lookups(hostile_stack: LocalStack, api: httpx.Client) -> None:
    """Each distinct unknown key cost a DynamoDB read and a Redis entry before any limit."""
    valkey = redis.Redis.from_url(hostile_stack.settings.redis_url)
    before = sum(1 for _ in valkey.scan_iter(match="apikey:*", count=1000))
    codes = [
        locate(api, "198.51.100.44", "microG/0.3", query=f"?key=guess-{i:04d}").status_code for i in range(60)
    ]
    limit = hostile_stack.settings.limit_invalid_keys_per_minute
    assert codes == [400] * limit + [429] * (60 - limit)
    cached = sum(1 for _ in valkey.scan_iter(match="apikey:*", count=1000)) - before
    assert cached == limit  # no cache entry, and no database read, past the limit
    for name in valkey.scan_iter(match="apikey:*", count=1000):
        assert 0 < valkey.ttl(name) <= hostile_stack.settings.api_key_cache_seconds
    # another address is not affected, and the demo key still works from the flooding one once cached
    assert locate(api, "198.51.100.45", "microG/0.3", query="?key=test").status_code == 200
    assert locate(api, "198.51.100.44", "microG/0.3", query="?key=test").status_code == 200


def _submission(path: str) -> dict[str, object]:
    wifi = WIFI["wifiAccessPoints"]
    if path == "/v1/submit":
        return {"items": [{"lat": 52.52, "lon": 13.41, "wifi": [{"key": w["macAddress"]} for w in wifi]}]}
    if path == "/v1/geosubmit":
        return {"items": [{"latitude": 52.52, "longitude": 13.41, "wifiAccessPoints": wifi}]}
    return {"items": [{"position": {"latitude": 52.52, "longitude": 13.41}, "wifiAccessPoints": wifi}]}


def test_the_submit_paths_share_one_budget_per_address(api: httpx.Client) -> None:
    """The per-IP submit limit counted per path: three paths, three budgets."""
    paths = ("/v2/geosubmit", "/v1/geosubmit", "/v1/submit") * 2
    codes = [
        api.post(path, json=_submission(path), headers={"X-Forwarded-For": "198.51.100.46"}).status_code
        for path in paths
    ]
    assert [code < 300 for code in codes] == [True] * 3 + [False] * 3
    assert set(codes[3:]) == {503}


def test_a_submit_key_has_a_daily_observation_budget(api: httpx.Client) -> None:
    """Any key allowed to submit skipped the limit entirely; now its budget (8 observations here,
    stored with the key) holds from any address and path."""
    codes = [
        api.post(
            f"{path}?key={BUDGETED_KEY}",
            json=_submission(path),
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        ).status_code
        for i, path in enumerate(("/v2/geosubmit", "/v1/geosubmit", "/v1/submit") * 2)
    ]
    assert [code < 300 for code in codes] == [True] * 4 + [False] * 2  # 2 observations a request
    refused = api.post(f"/v2/geosubmit?key={BUDGETED_KEY}", json=_submission("/v2/geosubmit"))
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 60


def test_the_redis_counters_and_cache_behave_like_their_twins(hostile_stack: LocalStack) -> None:
    """The in-memory twins the unit tests use answer as the Valkey implementations do."""
    valkey = redis.Redis.from_url(hostile_stack.settings.redis_url)
    real, twin = RedisCounters(lambda: valkey), MemoryCounters()
    for counters in (real, twin):
        assert counters.add(["t:{x}:a", "t:{x}:b"], [60, 5]) == [1, 1]
        assert counters.add(["t:{x}:a", "t:{x}:b"], [60, 5], [4, 2]) == [5, 3]
        assert counters.read(["t:{x}:a", "t:{x}:b", "t:{x}:c"]) == [5, 3, 0]
    assert 55 <= valkey.ttl("t:{x}:a") <= 60 and 0 < valkey.ttl("t:{x}:b") <= 5  # first TTL kept
    cache_real, cache_twin = RedisKeyCache(lambda: valkey), MemoryKeyCache()
    for cache in (cache_real, cache_twin):
        cache.put("digest-1", ApiKeyRecord(key="secret-abc", maxsubmit=3), 60)
        cache.put("digest-2", None, 60)
        assert cache.get("digest-1") == (True, ApiKeyRecord(key="", maxsubmit=3))
        assert cache.get("digest-2") == (True, None) and cache.get("digest-3") == (False, None)
    assert b"secret-abc" not in (valkey.get("apikey:digest-1") or b"")
