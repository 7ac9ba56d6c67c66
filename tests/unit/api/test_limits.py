"""Per-client limits: the rule, and the limiter's Redis counters and names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.api.access import ClientIdentity
from openloc.api.errors import ApiError
from openloc.api.limits import Budget, Limiter, LimitSettings, Usage, Window, over_budget, seconds_left

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
