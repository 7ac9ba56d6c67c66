"""Who is calling: the key or, under the optional key policy, the User-Agent family."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.api.access import ClientIdentity, identify, user_agent_family
from openloc.api.errors import ApiError
from openloc.api.keys import KeyChecker
from openloc.api.services import Services
from openloc.ingest.demo_seed import CENTER, WIFI_PREFIX, demo_mac
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.queue import MemoryObservationQueue
from starlette.testclient import TestClient

from tests.unit.api.support import Client, _services, assert_envelope, key_checker, reports_in, wifi_body

# --- User-Agent families --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "family"),
    [
        ("microG/0.3.1.4 (Android 14)", "microG/0.3"),
        ("NeoStumbler/62", "NeoStumbler/62"),
        ("GeoClue/2.7.1", "GeoClue/2.7"),
        ("Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A)", "Dalvik/2.1"),
        ("python-httpx/0.28.1", "python-httpx/0.28"),
        ("MyLocator/v1.2.3-beta", "MyLocator/1.2"),
        ("  curl/8.5.0", "curl/8.5"),
    ],
)
def test_user_agent_family(user_agent: str, family: str) -> None:
    assert user_agent_family(user_agent) == family


@pytest.mark.parametrize("user_agent", [None, "", "   ", "microG", "Mozilla", "/1.0", "app/beta", "{x}/1"])
def test_unusable_user_agents(user_agent: str | None) -> None:
    assert user_agent_family(user_agent) is None


@given(st.text(max_size=200))
def test_family_is_short_and_safe_for_redis_names(user_agent: str) -> None:
    family = user_agent_family(user_agent)
    if family is not None:
        assert len(family) <= 64 + 1 + 41
        assert not set(family) & set("{} \t\r\n")


# --- identify -------------------------------------------------------------------------------------


def _checker(*records: ApiKeyRecord) -> KeyChecker:
    return key_checker(MemoryApiKeyStore(*records))


def test_required_policy_needs_a_key_whatever_the_user_agent() -> None:
    settings = Settings(openloc_key_policy="required")
    with pytest.raises(ApiError) as info:
        identify(_checker(), settings, None, "microG/0.3", "allow_locate")
    assert (info.value.status, info.value.reason) == (400, "keyInvalid")


def test_optional_policy_identifies_keyless_clients_by_user_agent() -> None:
    settings = Settings(openloc_key_policy="optional", limit_agent_per_day=50, limit_client_per_minute=7)
    identity = identify(_checker(), settings, None, "microG/0.3.1", "allow_locate")
    assert identity == ClientIdentity(
        keyed=False, tag="ua:microG/0.3", label="microG/0.3", daily=50, per_minute=7
    )
    assert identify(_checker(), settings, "", "microG/0.3.1", "allow_region").tag == "ua:microG/0.3"


def test_optional_policy_without_user_agent_says_what_to_send() -> None:
    with pytest.raises(ApiError) as info:
        identify(_checker(), Settings(openloc_key_policy="optional"), None, None, "allow_locate")
    error = info.value
    assert (error.status, error.domain, error.reason) == (400, "usageLimits", "userAgentRequired")
    assert "?key=" in error.message and "User-Agent" in error.message


@pytest.mark.parametrize("policy", ["required", "optional"])
def test_a_sent_key_is_always_checked(policy: str) -> None:
    settings = Settings(openloc_key_policy=policy)
    checker = _checker(
        ApiKeyRecord(key="distro-key", maxreq=10), ApiKeyRecord(key="no-region", allow_region=False)
    )
    for key, permission in [
        ("unknown", "allow_locate"),
        ("bad key", "allow_locate"),
        ("no-region", "allow_region"),
    ]:
        with pytest.raises(ApiError) as info:
            identify(checker, settings, key, "microG/0.3", permission)
        assert info.value.reason == "keyInvalid"
    identity = identify(checker, settings, "distro-key", None, "allow_locate")
    assert identity.keyed and identity.daily == 10
    assert "distro-key" not in identity.tag and "distro-key" not in identity.label


def test_key_without_daily_limit_is_not_limited() -> None:
    identity = identify(_checker(ApiKeyRecord(key="partner")), Settings(), "partner", None, "allow_locate")
    assert (identity.daily, identity.per_minute) == (0, 0)


# --- the policy over HTTP -------------------------------------------------------------------------


def test_optional_policy_serves_keyless_clients_with_a_user_agent(
    make_services: Callable[..., Services], make_client: Client
) -> None:
    client = make_client(_services(make_services, openloc_key_policy="optional"))
    response = client.post("/v1/geolocate", json=wifi_body(9, 10), headers={"User-Agent": "microG/0.3.1"})
    assert response.status_code == 200
    assert abs(response.json()["location"]["lat"] - CENTER[0]) < 0.01
    region = client.post("/v1/region", json=wifi_body(9, 10), headers={"User-Agent": "GeoClue/2.7.0"})
    assert region.json() == {"country_code": "DE", "country_name": "Germany"}
    search = client.post(
        "/v1/search",
        json={"wifi": [{"key": demo_mac(WIFI_PREFIX, i)} for i in (9, 10)]},
        headers={"User-Agent": "a/1"},
    )
    assert search.json()["status"] == "ok"
    # a key that is sent is still checked
    assert_envelope(
        client.post("/v1/geolocate?key=unknown", json={}, headers={"User-Agent": "a/1"}),
        400,
        "usageLimits",
        "keyInvalid",
    )
    assert client.post("/v1/geolocate?key=test", json=wifi_body(9, 10)).status_code == 200


@pytest.mark.parametrize("user_agent", ["", "testclient", "Mozilla"])
def test_optional_policy_without_usable_user_agent_is_a_clear_400(
    make_services: Callable[..., Services], make_client: Client, user_agent: str
) -> None:
    client = make_client(_services(make_services, openloc_key_policy="optional"))
    response = client.post("/v1/geolocate", json=wifi_body(9, 10), headers={"User-Agent": user_agent})
    assert_envelope(response, 400, "usageLimits", "userAgentRequired")
    assert "User-Agent" in response.json()["error"]["message"]


@pytest.mark.parametrize("query", ["key=bad1&key=bad2", "key=test&key=test", "key=&key=", "key=test&key="])
def test_a_key_given_twice_is_key_invalid_under_the_optional_policy_too(
    make_services: Callable[..., Services], make_client: Client, query: str
) -> None:
    """The attack: `?key=bad1&key=bad2` was served as a keyless request. A key given twice is no
    valid key, so the request is refused like any other invalid key (docs/api.md)."""
    client = make_client(_services(make_services, openloc_key_policy="optional"))
    for path in ("/v1/geolocate", "/v1/region", "/v1/search"):
        response = client.post(f"{path}?{query}", json=wifi_body(9, 10), headers={"User-Agent": "microG/0.3"})
        assert_envelope(response, 400, "usageLimits", "keyInvalid")


def test_required_policy_refuses_keyless_clients(client: TestClient) -> None:
    response = client.post("/v1/geolocate", json=wifi_body(9, 10), headers={"User-Agent": "microG/0.3"})
    assert_envelope(response, 400, "usageLimits", "keyInvalid")


def test_submissions_need_neither_key_nor_user_agent(
    make_services: Callable[..., Services], make_client: Client, queue: MemoryObservationQueue, now_ms: int
) -> None:
    client = make_client(_services(make_services, openloc_key_policy="optional"))
    item = {
        "timestamp": now_ms,
        "position": {"latitude": 52.52, "longitude": 13.41},
        "wifiAccessPoints": [{"macAddress": "00:1a:2b:aa:00:01"}, {"macAddress": "00:1a:2b:aa:00:02"}],
    }
    assert client.post("/v2/geosubmit", json={"items": [item]}, headers={"User-Agent": ""}).status_code == 200
    assert len(reports_in(queue)) == 1
