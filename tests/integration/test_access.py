"""Keyless access (OPENLOC_KEY_POLICY=optional, the local default) and the per-identity / per-IP limits
on the embedded stack: real Valkey running the Lua script, requests from many client addresses
(X-Forwarded-For from loopback becomes the API Gateway sourceIp), small budgets from the env."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from openloc.local.stack import LocalStack
from openloc.model.records import ApiKeyRecord
from openloc.store.api_keys import DynamoApiKeyStore
from openloc.store.pynamodb_tables import bind_models

pytestmark = pytest.mark.integration

WIFI = {"wifiAccessPoints": [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]}
AGENT_PER_DAY = 6
IP_PER_DAY = 2
CLIENT_PER_MINUTE = 40
IP_PER_MINUTE = 5
DISTRO_KEY = "distro-key-0123456789"
BURST_KEY = "burst-key-0123456789"
SEEN_ADDRESSES: set[str] = set()


@pytest.fixture(scope="module")
def access_stack() -> Iterator[LocalStack]:
    local = LocalStack(
        data_dir=None,
        port=0,
        run_poller=False,
        run_scheduler=False,
        env={
            "GEOIP_PATH": "",
            "OPENLOC_KEY_POLICY": "optional",
            "LIMIT_AGENT_PER_DAY": str(AGENT_PER_DAY),
            "LIMIT_IP_PER_DAY": str(IP_PER_DAY),
            "LIMIT_CLIENT_PER_MINUTE": str(CLIENT_PER_MINUTE),
            "LIMIT_IP_PER_MINUTE": str(IP_PER_MINUTE),
        },
    )
    with local:
        bind_models(local.settings)
        DynamoApiKeyStore().put(ApiKeyRecord(key=DISTRO_KEY, maxreq=4))
        DynamoApiKeyStore().put(ApiKeyRecord(key=BURST_KEY, maxreq=100_000))
        yield local


@pytest.fixture
def api(access_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=access_stack.url, timeout=20) as client:
        yield client


def post(api: httpx.Client, url: str, ip: str, agent: str = "python-httpx/0.28") -> httpx.Response:
    SEEN_ADDRESSES.add(ip)
    return api.post(url, json=WIFI, headers={"X-Forwarded-For": ip, "User-Agent": agent})


def away_from_minute_boundary() -> None:
    """Burst budgets use fixed minutes: start a burst test at least 10 s before a minute ends."""
    left = 60 - time.time() % 60
    if left < 10:
        time.sleep(left + 0.1)


def test_keyless_clients_are_served_and_need_a_user_agent(api: httpx.Client) -> None:
    assert post(api, "/v1/geolocate", "198.51.100.1", agent="microG/0.3.1").status_code == 200
    response = api.post("/v1/region", json=WIFI, headers={"User-Agent": ""})
    assert response.status_code == 400
    detail = response.json()["error"]["errors"][0]
    assert (detail["domain"], detail["reason"]) == ("usageLimits", "userAgentRequired")
    assert "User-Agent" in detail["message"]
    # a key that is sent is checked, and a good key is served without a User-Agent
    assert post(api, "/v1/geolocate?key=nope", "198.51.100.1").json()["error"]["errors"][0]["reason"] == (
        "keyInvalid"
    )
    assert api.post("/v1/geolocate?key=test", json=WIFI, headers={"User-Agent": ""}).status_code == 200


def test_region_answers_carry_a_cache_hint(api: httpx.Client) -> None:
    response = post(api, "/v1/region", "198.51.100.2", agent="GeoClue/2.7.0")
    assert response.json() == {"country_code": "DE", "country_name": "Germany"}
    assert response.headers["cache-control"] == "private, max-age=86400"


def test_many_devices_behind_one_user_agent_only_the_abusive_ip_is_throttled(api: httpx.Client) -> None:
    agent = "DesktopDistro/4.2.1"
    abusive = "2001:db8:aaaa:1::1"
    assert [post(api, "/v1/geolocate", abusive, agent).status_code for _ in range(IP_PER_DAY)] == [200] * 2
    throttled = post(api, "/v1/geolocate", abusive, agent)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    assert 0 < int(throttled.headers["retry-after"]) <= 86_400
    # another address in the abuser's /64 is the same subscriber: throttled as well
    assert post(api, "/v1/geolocate", "2001:db8:aaaa:1:ffff::2", agent).status_code == 429
    # ...and so is another User-Agent or another path from it: the address's keyless cap
    assert post(api, "/v1/geolocate", abusive, "DesktopDistro/4.3").status_code == 429
    assert post(api, "/v1/region", abusive, agent).status_code == 429
    # every other device behind the same User-Agent keeps its own share of the day, even once
    # the family as a whole is past its budget (6)
    devices = [f"203.0.113.{n}" for n in range(1, 9)] + [f"2001:db8:bbbb:{n}::1" for n in range(1, 5)]
    for device in devices:
        assert [post(api, "/v1/geolocate", device, agent).status_code for _ in range(IP_PER_DAY)] == [
            200,
            200,
        ]
    # ... and is throttled only once it used up that share
    assert post(api, "/v1/geolocate", devices[0], agent).status_code == 429


def test_shared_key_over_its_daily_limit_keeps_serving_other_devices(api: httpx.Client) -> None:
    url = f"/v1/geolocate?key={DISTRO_KEY}"
    assert [post(api, url, "192.0.2.10").status_code for _ in range(4)] == [200] * 4
    over = post(api, url, "192.0.2.10")
    assert over.status_code == 403
    assert over.json()["error"]["errors"][0] == {
        "domain": "usageLimits",
        "reason": "dailyLimitExceeded",
        "message": "You have exceeded your daily limit.",
    }
    assert int(over.headers["retry-after"]) > 0
    assert [post(api, url, "192.0.2.11").status_code for _ in range(3)] == [200, 200, 403]


def test_burst_budget_answers_429_with_retry_after(api: httpx.Client) -> None:
    away_from_minute_boundary()
    url = f"/v1/geolocate?key={BURST_KEY}"
    codes = [post(api, url, "192.0.2.20").status_code for _ in range(CLIENT_PER_MINUTE)]
    assert codes == [200] * CLIENT_PER_MINUTE
    burst = post(api, url, "192.0.2.20")
    assert burst.status_code == 429
    assert 0 < int(burst.headers["retry-after"]) <= 60
    assert [post(api, url, "192.0.2.21").status_code for _ in range(IP_PER_MINUTE)] == [200] * IP_PER_MINUTE
    assert post(api, url, "192.0.2.21").status_code == 429


def test_redis_holds_no_address_and_no_key(access_stack: LocalStack) -> None:
    client = redis.Redis.from_url(access_stack.valkey.connection_url)
    names = [name.decode() for name in client.scan_iter(count=1000)]
    assert any(name.startswith("rl:{ua:DesktopDistro/4.2}") for name in names)
    for name in names:
        assert DISTRO_KEY not in name and BURST_KEY not in name
        assert not any(address in name for address in SEEN_ADDRESSES)
        assert client.ttl(name) > 0  # everything expires
    values = [client.get(name) for name in names if client.type(name) == b"string"]
    assert not any(DISTRO_KEY.encode() in value for value in values if value)


def test_without_redis_nothing_is_limited(access_stack: LocalStack, api: httpx.Client) -> None:
    agent = "OutageDistro/1.0"
    codes = [post(api, "/v1/geolocate", "192.0.2.30", agent).status_code for _ in range(AGENT_PER_DAY + 1)]
    assert codes[-1] == 429
    access_stack.valkey.stop()
    try:
        codes = [post(api, "/v1/geolocate", "192.0.2.30", agent).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
    finally:
        access_stack.valkey.start()
