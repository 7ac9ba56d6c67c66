"""Client identity (key or User-Agent family), the limit rule, and the limiter's Redis keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.api.access import ClientIdentity, identify, user_agent_family
from openloc.api.client_ip import address_group, normalize_ip
from openloc.api.errors import ApiError
from openloc.api.keys import KeyChecker
from openloc.api.limits import (
    Budget,
    Limiter,
    LimitSettings,
    Usage,
    Window,
    over_budget,
    seconds_left,
)
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore

NOW = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)

# --- User-Agent families --------------------------------------------------------------------


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


# --- identify -------------------------------------------------------------------------------


def _checker(*records: ApiKeyRecord) -> KeyChecker:
    return KeyChecker(MemoryApiKeyStore(*records), lambda: None, 300)


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


# --- the rule -------------------------------------------------------------------------------


def test_identity_within_budget_throttles_nobody() -> None:
    assert not over_budget(Budget(Window.DAY, 10, 3), Usage(identity=10, ip=10))


def test_identity_over_budget_throttles_only_ips_over_their_share() -> None:
    budget = Budget(Window.DAY, 10, 3)
    assert over_budget(budget, Usage(identity=11, ip=4))
    assert not over_budget(budget, Usage(identity=500, ip=3))


def test_without_ip_shares_an_identity_over_budget_is_cut_off() -> None:
    assert over_budget(Budget(Window.DAY, 10, 0), Usage(identity=11, ip=1))
    assert over_budget(Budget(Window.DAY, 10, 3), Usage(identity=11, ip=None))


@given(
    budget=st.integers(1, 1000),
    share=st.integers(0, 2000),
    identity=st.integers(1, 5000),
    ip=st.integers(1, 5000),
)
def test_rule_properties(budget: int, share: int, identity: int, ip: int) -> None:
    ip = min(ip, identity)  # an IP's count is part of its identity's count
    throttled = over_budget(Budget(Window.MINUTE, budget, share), Usage(identity, ip))
    if identity <= budget:
        assert not throttled
    if ip > budget and identity > budget:
        assert throttled  # no single IP ever gets more than the whole budget
    if share and identity > budget and ip <= min(share, budget):
        assert not throttled


def test_retry_after_is_the_rest_of_the_window() -> None:
    assert seconds_left(Window.MINUTE, NOW) == 30
    assert seconds_left(Window.DAY, NOW) == 12 * 3600 - 30


# --- the limiter ----------------------------------------------------------------------------


class FakeCounter:
    """The increment script's behaviour on a dict (the real script runs in integration tests)."""

    def __init__(self, fail: bool = False) -> None:
        self.counts: dict[str, int] = {}
        self.ttls: dict[str, int] = {}
        self.fail = fail

    def __call__(self, _client: Any) -> Any:
        def count(keys: list[str], ttls: list[int]) -> list[int]:
            if self.fail:
                raise TimeoutError("redis")
            for key, ttl in zip(keys, ttls, strict=True):
                self.counts[key] = self.counts.get(key, 0) + 1
                self.ttls.setdefault(key, ttl)
            return [self.counts[key] for key in keys]

        return count


def _limiter(counter: FakeCounter, per_ip_minute: int = 0, per_ip_day: int = 0) -> Limiter:
    settings = LimitSettings(per_ip_minute=per_ip_minute, per_ip_day=per_ip_day, hash_key="secret")
    return Limiter(object, settings, counter=counter)  # type: ignore[arg-type]


AGENT = ClientIdentity(keyed=False, tag="ua:microG/0.3", label="microG/0.3", daily=5, per_minute=0)
KEYED = ClientIdentity(keyed=True, tag="k:0011", label="dist…", daily=2, per_minute=3)


def test_keyless_over_daily_budget_is_429_with_retry_after() -> None:
    limiter = _limiter(FakeCounter())
    for _ in range(5):
        limiter.check(AGENT, "/v1/geolocate", "198.51.100.1", NOW)
    with pytest.raises(ApiError) as info:
        limiter.check(AGENT, "/v1/geolocate", "198.51.100.1", NOW)
    error = info.value
    assert (error.status, error.domain, error.reason) == (429, "usageLimits", "rateLimitExceeded")
    assert dict(error.headers)["Retry-After"] == str(12 * 3600 - 30)
    limiter.check(AGENT, "/v1/region", "198.51.100.1", NOW)  # counted per path


def test_keyed_daily_is_403_and_burst_is_429() -> None:
    limiter = _limiter(FakeCounter())
    burst_only = ClientIdentity(keyed=True, tag="k:22", label="x", daily=0, per_minute=1)
    limiter.check(burst_only, "/v1/geolocate", None, NOW)
    with pytest.raises(ApiError) as info:
        limiter.check(burst_only, "/v1/geolocate", None, NOW)
    assert (info.value.status, dict(info.value.headers)["Retry-After"]) == (429, "30")
    limiter.check(KEYED, "/v1/geolocate", None, NOW)
    limiter.check(KEYED, "/v1/geolocate", None, NOW)
    with pytest.raises(ApiError) as info:
        limiter.check(KEYED, "/v1/geolocate", None, NOW)
    assert (info.value.status, info.value.reason) == (403, "dailyLimitExceeded")
    assert info.value.body()["error"]["message"] == "You have exceeded your daily limit."


def test_shared_identity_over_budget_throttles_only_the_heavy_ip() -> None:
    limiter = _limiter(FakeCounter(), per_ip_day=2)
    for _ in range(5):
        limiter.check(AGENT, "/v1/geolocate", "203.0.113.9", NOW)  # one device uses the whole budget
    with pytest.raises(ApiError):
        limiter.check(AGENT, "/v1/geolocate", "203.0.113.9", NOW)
    for device in range(20):  # every other device still gets its share
        limiter.check(AGENT, "/v1/geolocate", f"198.51.100.{device}", NOW)
        limiter.check(AGENT, "/v1/geolocate", f"198.51.100.{device}", NOW)
    with pytest.raises(ApiError):
        limiter.check(AGENT, "/v1/geolocate", "198.51.100.0", NOW)


def test_ipv6_addresses_share_their_64() -> None:
    limiter = _limiter(FakeCounter(), per_ip_day=2)
    for _ in range(5):
        limiter.check(AGENT, "/v1/geolocate", "2001:db8:1:2::1", NOW)
    limiter.check(AGENT, "/v1/geolocate", "2001:db8:1:3::1", NOW)  # another /64: its own share
    with pytest.raises(ApiError):
        limiter.check(AGENT, "/v1/geolocate", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", NOW)


def test_redis_names_hold_no_ip_or_key_and_expire_after_their_window() -> None:
    counter = FakeCounter()
    _limiter(counter, per_ip_minute=5, per_ip_day=5).check(KEYED, "/v1/geolocate", "2001:db8::7", NOW)
    assert len(counter.counts) == 4
    for name, ttl in counter.ttls.items():
        assert name.startswith("rl:{k:0011}:/v1/geolocate:")
        assert "2001" not in name and "db8" not in name
        left = seconds_left(Window.DAY if ":d2026" in name else Window.MINUTE, NOW)
        assert left < ttl <= left + 60  # outlives its window, not by much


def test_redis_failure_or_absence_means_no_limit() -> None:
    broken = _limiter(FakeCounter(fail=True))
    absent = Limiter(lambda: None, LimitSettings(1, 1, "k"))
    for _ in range(10):
        broken.check(AGENT, "/v1/geolocate", "198.51.100.1", NOW)
        absent.check(AGENT, "/v1/geolocate", "198.51.100.1", NOW)


def test_unlimited_identity_does_not_touch_redis() -> None:
    counter = FakeCounter()
    free = ClientIdentity(keyed=True, tag="k:1", label="p…", daily=0, per_minute=0)
    _limiter(counter).check(free, "/v1/geolocate", "198.51.100.1", NOW)
    assert counter.counts == {}


# --- client IPs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ip"),
    [
        ("2001:DB8::1", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("192.0.2.1:8080", "192.0.2.1"),
        (" 192.0.2.1 ", "192.0.2.1"),
        ("::ffff:81.2.69.142", "81.2.69.142"),
        ("fe80::1%eth0", "fe80::1"),
        ("not-an-ip", None),
        ("", None),
    ],
)
def test_normalize_ip(raw: str, ip: str | None) -> None:
    assert normalize_ip(raw) == ip


def test_address_group() -> None:
    assert address_group("81.2.69.142") == "81.2.69.142"
    assert address_group("2a02:c7f:10:20:1:2:3:4") == "2a02:c7f:10:20::/64"
