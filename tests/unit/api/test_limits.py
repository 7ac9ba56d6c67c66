"""Per-client limits: the rule, and the limiter's Redis counters and names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.api.access import ClientIdentity
from openloc.api.errors import ApiError
from openloc.api.limits import Budget, Limiter, LimitSettings, Usage, Window, over_budget, seconds_left
from openloc.store.counters import CounterStore, MemoryCounters, RedisCounters, UnavailableCounters

NOW = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)


# --- the rule -------------------------------------------------------------------------------------


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


# --- the limiter ----------------------------------------------------------------------------------


def _limiter(counters: CounterStore | None = None, per_ip_minute: int = 0, per_ip_day: int = 0) -> Limiter:
    settings = LimitSettings(per_ip_minute=per_ip_minute, per_ip_day=per_ip_day)
    return Limiter(counters if counters is not None else MemoryCounters(), settings, lambda: "secret")


AGENT = ClientIdentity(keyed=False, tag="ua:microG/0.3", label="microG/0.3", daily=5, per_minute=0)


KEYED = ClientIdentity(keyed=True, tag="k:0011", label="dist…", daily=2, per_minute=3)


def test_keyless_over_daily_budget_is_429_with_retry_after() -> None:
    limiter = _limiter()
    for _ in range(5):
        limiter.check(AGENT, "/v1/geolocate", "198.51.100.1", NOW)
    with pytest.raises(ApiError) as info:
        limiter.check(AGENT, "/v1/geolocate", "198.51.100.1", NOW)
    error = info.value
    assert (error.status, error.domain, error.reason) == (429, "usageLimits", "rateLimitExceeded")
    assert dict(error.headers)["Retry-After"] == str(12 * 3600 - 30)
    limiter.check(AGENT, "/v1/region", "198.51.100.1", NOW)  # counted per path


def test_keyed_daily_is_403_and_burst_is_429() -> None:
    limiter = _limiter()
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


# A distribution's key shared by many devices.
DISTRO = ClientIdentity(keyed=True, tag="k:d15", label="dist…", daily=5, per_minute=0)


def test_shared_identity_over_budget_throttles_only_the_heavy_ip() -> None:
    limiter = _limiter(None, per_ip_day=2)
    for _ in range(5):
        limiter.check(DISTRO, "/v1/geolocate", "203.0.113.9", NOW)  # one device uses the whole budget
    with pytest.raises(ApiError):
        limiter.check(DISTRO, "/v1/geolocate", "203.0.113.9", NOW)
    for device in range(20):  # every other device still gets its share
        limiter.check(DISTRO, "/v1/geolocate", f"198.51.100.{device}", NOW)
        limiter.check(DISTRO, "/v1/geolocate", f"198.51.100.{device}", NOW)
    with pytest.raises(ApiError):
        limiter.check(DISTRO, "/v1/geolocate", "198.51.100.0", NOW)


def test_ipv6_addresses_share_their_64() -> None:
    limiter = _limiter(None, per_ip_day=2)
    for _ in range(5):
        limiter.check(DISTRO, "/v1/geolocate", "2001:db8:1:2::1", NOW)
    limiter.check(DISTRO, "/v1/geolocate", "2001:db8:1:3::1", NOW)  # another /64: its own share
    with pytest.raises(ApiError):
        limiter.check(DISTRO, "/v1/geolocate", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", NOW)


def _agent(family: str) -> ClientIdentity:
    """A keyless client as `openloc.api.access.identify` makes it, with every budget at 5."""
    return ClientIdentity(keyed=False, tag=f"ua:{family}", label=family, daily=5, per_minute=5)


def _served(limiter: Limiter, identity: ClientIdentity, path: str, ip: str) -> bool:
    try:
        limiter.check(identity, path, ip, NOW)
    except ApiError as error:
        assert (error.status, error.reason) == (429, "rateLimitExceeded")
        return False
    return True


def test_rotating_user_agents_share_one_budget_per_address() -> None:
    """The attack (LIMIT_* = 5/5/2/2): one address sending `Client$i/1.0` or `Client/$i.0` got a
    fresh budget with every User-Agent, 30 × 200. Now the address is capped across families."""
    limiter = _limiter(None, per_ip_minute=2, per_ip_day=2)
    attacker = "198.51.100.7"
    rotating = [_served(limiter, _agent(f"Client{i}/1.0"), "/v1/geolocate", attacker) for i in range(30)]
    assert rotating == [True, True] + [False] * 28
    # other version spellings, other paths: the same address budget
    assert not _served(limiter, _agent("Client/7.0"), "/v1/region", attacker)
    assert not _served(limiter, _agent("Client/8.0"), "/v1/search", attacker)
    # the same User-Agent from another address is unaffected
    assert _served(limiter, _agent("Client0/1.0"), "/v1/geolocate", "203.0.113.1")


def test_a_single_user_agent_gets_no_more_per_address_than_the_cap() -> None:
    limiter = _limiter(None, per_ip_minute=2, per_ip_day=2)
    served = [_served(limiter, _agent("microG/0.3"), "/v1/geolocate", "198.51.100.8") for _ in range(6)]
    assert served == [True, True, False, False, False, False]


def test_rotating_ipv6_addresses_inside_a_64_share_the_address_cap() -> None:
    limiter = _limiter(None, per_ip_minute=3, per_ip_day=100)
    served = [
        _served(limiter, _agent(f"C{i}/1.0"), "/v1/geolocate", f"2001:db8:5:6:{i:x}::{i + 1:x}")
        for i in range(10)
    ]
    assert served == [True] * 3 + [False] * 7
    assert _served(limiter, _agent("C0/1.0"), "/v1/geolocate", "2001:db8:5:7::1")  # the next /64


def test_the_address_cap_names_no_address_and_resets_with_its_window() -> None:
    counters = MemoryCounters()
    limiter = _limiter(counters, per_ip_minute=1, per_ip_day=10)
    assert _served(limiter, _agent("a/1"), "/v1/geolocate", "198.51.100.9")
    assert not _served(limiter, _agent("b/1"), "/v1/geolocate", "198.51.100.9")
    address_counters = [name for name in counters.values if name.startswith("rl:{a:")]
    assert len(address_counters) == 2 and not any("198.51" in name for name in counters.values)
    later = NOW.replace(minute=NOW.minute + 1)
    limiter.check(_agent("c/1"), "/v1/geolocate", "198.51.100.9", later)  # a new minute


def test_keys_are_not_under_the_keyless_address_cap() -> None:
    limiter = _limiter(None, per_ip_minute=2, per_ip_day=2)
    partner = ClientIdentity(keyed=True, tag="k:77", label="part…", daily=1000, per_minute=1000)
    for _ in range(50):
        limiter.check(partner, "/v1/geolocate", "198.51.100.10", NOW)


def test_redis_names_hold_no_ip_or_key_and_expire_after_their_window() -> None:
    counter = MemoryCounters()
    _limiter(counter, per_ip_minute=5, per_ip_day=5).check(KEYED, "/v1/geolocate", "2001:db8::7", NOW)
    assert len(counter.values) == 4
    for name, ttl in counter.ttls.items():
        assert name.startswith("rl:{k:0011}:/v1/geolocate:")
        assert "2001" not in name and "db8" not in name
        left = seconds_left(Window.DAY if ":d2026" in name else Window.MINUTE, NOW)
        assert left < ttl <= left + 60  # outlives its window, not by much


def test_redis_failure_or_absence_means_no_limit() -> None:
    broken = _limiter(UnavailableCounters(), per_ip_minute=1, per_ip_day=1)
    absent = Limiter(RedisCounters(lambda: None), LimitSettings(1, 1), lambda: "k")
    for _ in range(10):
        broken.check(AGENT, "/v1/geolocate", "198.51.100.1", NOW)
        absent.check(AGENT, "/v1/geolocate", "198.51.100.1", NOW)


def test_unlimited_identity_does_not_touch_redis() -> None:
    counter = MemoryCounters()
    free = ClientIdentity(keyed=True, tag="k:1", label="p…", daily=0, per_minute=0)
    _limiter(counter, per_ip_minute=5, per_ip_day=5).check(free, "/v1/geolocate", "198.51.100.1", NOW)
    assert counter.values == {}  # keys are not under the keyless per-address cap either
