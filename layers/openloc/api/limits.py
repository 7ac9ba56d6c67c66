"""Fail-soft request limits per client identity and per source IP, counted in Redis.

Per request, path, client identity (a key or a User-Agent family, `openloc.api.access`) and
fixed window (the current minute and the current UTC day), one Lua script increments atomically:

- the identity's counter,          `rl:{<identity>}:<path>:<window>`
- the IP's counter in the identity, `rl:{<identity>}:<path>:<window>:<ip hash>`

(the IP is a keyed BLAKE2b hash of the address, an IPv6 address counted by its /64; a key is
only ever a hash of it: neither appears in Redis or in logs). Every counter expires with its
window. The decision, per window, is:

    throttled = identity count > identity budget
                and (no per-IP share or IP count > min(per-IP share, identity budget))

So while a shared identity stays within its budget nobody is limited; once it is over, each
source IP keeps its own share (`LIMIT_IP_PER_MINUTE` / `LIMIT_IP_PER_DAY`) and only the IPs that
used more than that are throttled, instead of every device behind the identity. No IP ever gets
more than the identity's whole budget. Rejected requests are counted too (a throttled client
that keeps hammering stays throttled).

Answers: a keyless client over a budget gets `429 rateLimitExceeded`; a key over its daily
budget (`maxreq`) gets the contract's `403 dailyLimitExceeded`, and over its burst budget `429`.
Each carries `Retry-After`: the seconds until the window that was exceeded ends.
Redis missing, down or slow: no limit (logged and counted), the request is served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from openloc.api.access import ClientIdentity
from openloc.api.client_ip import address_group
from openloc.api.errors import ApiError, daily_limit
from openloc.api.ip_limit import ip_digest
from openloc.observability import logger, metrics

if TYPE_CHECKING:
    import redis

DAY_SECONDS = 86_400
MINUTE_SECONDS = 60

# KEYS: counters; ARGV[i]: seconds to keep KEYS[i]. Returns the counts after the increment.
INCREMENT_SCRIPT = """
local counts = {}
for i = 1, #KEYS do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[i]))
  end
  counts[i] = count
end
return counts
"""


class Window(Enum):
    MINUTE = "minute"
    DAY = "day"


@dataclass(frozen=True)
class Budget:
    """One window's budgets: of the identity, and of each source IP within it (0 = none)."""

    window: Window
    identity: int
    per_ip: int


@dataclass(frozen=True)
class Usage:
    """One window's counts after this request (`ip` is None when the client IP is unknown)."""

    identity: int
    ip: int | None


def over_budget(budget: Budget, usage: Usage) -> bool:
    """The rule of the module docstring, for one window."""
    if budget.identity <= 0 or usage.identity <= budget.identity:
        return False
    if budget.per_ip <= 0 or usage.ip is None:
        return True
    return usage.ip > min(budget.per_ip, budget.identity)


def window_id(window: Window, now: datetime) -> str:
    if window is Window.DAY:
        return f"d{now:%Y%m%d}"
    return f"m{int(now.timestamp()) // MINUTE_SECONDS}"


def seconds_left(window: Window, now: datetime) -> int:
    """Seconds until `window` ends (at least 1): the Retry-After of a request throttled in it."""
    length = DAY_SECONDS if window is Window.DAY else MINUTE_SECONDS
    return max(1, length - int(now.timestamp()) % length)


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "usageLimits",
        "rateLimitExceeded",
        "Too many requests from this client: retry after the time given in Retry-After.",
        headers=(("Retry-After", str(retry_after)),),
    )


def over_limit_error(identity: ClientIdentity, windows: list[Window], now: datetime) -> ApiError:
    retry_after = max(seconds_left(window, now) for window in windows)
    if identity.keyed and Window.DAY in windows:
        error = daily_limit()
        error.headers = (("Retry-After", str(retry_after)),)
        return error
    return too_many_requests(retry_after)


Counter = Callable[[list[str], list[int]], list[int]]


def redis_counter(client: redis.Redis) -> Counter:
    """Run the increment script on `client` (EVALSHA, loading the script when Redis lacks it)."""
    script = client.register_script(INCREMENT_SCRIPT)

    def count(keys: list[str], ttls: list[int]) -> list[int]:
        result: Any = script(keys=keys, args=ttls)
        return [int(value) for value in result]

    return count


@dataclass(frozen=True)
class LimitSettings:
    per_ip_minute: int
    per_ip_day: int
    hash_key: str


class Limiter:
    def __init__(
        self,
        redis_client: Callable[[], redis.Redis | None],
        settings: LimitSettings,
        counter: Callable[[redis.Redis], Counter] = redis_counter,
    ) -> None:
        self.redis_client = redis_client
        self.settings = settings
        self.counter = counter

    def budgets(self, identity: ClientIdentity) -> list[Budget]:
        budgets = [
            Budget(Window.MINUTE, identity.per_minute, self.settings.per_ip_minute),
            Budget(Window.DAY, identity.daily, self.settings.per_ip_day),
        ]
        return [budget for budget in budgets if budget.identity > 0]

    def check(self, identity: ClientIdentity, path: str, ip: str | None, now: datetime | None = None) -> None:
        """Count this request; raise the over-limit answer when it is throttled."""
        budgets = self.budgets(identity)
        if not budgets:
            return
        client = self.redis_client()
        if client is None:
            return
        now = now or datetime.now(UTC)
        ip_hash = ip_digest(address_group(ip), self.settings.hash_key) if ip else None
        counters: list[tuple[Budget, str, str | None]] = []  # budget, identity counter, IP counter
        for budget in budgets:
            name = f"rl:{{{identity.tag}}}:{path}:{window_id(budget.window, now)}"
            per_ip = f"{name}:{ip_hash}" if ip_hash is not None and budget.per_ip > 0 else None
            counters.append((budget, name, per_ip))
        keys: list[str] = []
        ttls: list[int] = []
        for budget, *names in counters:
            for name in filter(None, names):
                keys.append(name)
                ttls.append(seconds_left(budget.window, now) + MINUTE_SECONDS)
        try:
            counts = dict(zip(keys, self.counter(client)(keys, ttls), strict=True))
        except Exception as error:  # redis errors and timeouts: serve without limits
            logger.warning("redis unavailable for limits", extra={"error": type(error).__name__})
            metrics.add_metric(name="RedisErrors", unit=MetricUnit.Count, value=1)
            return
        exceeded: list[Window] = []
        for budget, name, per_ip in counters:
            usage = Usage(counts[name], counts[per_ip] if per_ip else None)
            if over_budget(budget, usage):
                exceeded.append(budget.window)
            elif usage.identity > budget.identity:
                metrics.add_metric(name="LimitServedByIpShare", unit=MetricUnit.Count, value=1)
        if exceeded:
            metrics.add_metric(
                name="DailyLimitExceeded" if Window.DAY in exceeded else "BurstLimitExceeded",
                unit=MetricUnit.Count,
                value=1,
            )
            logger.info(
                "request over limit",
                extra={"client": identity.label, "path": path, "windows": [w.value for w in exceeded]},
            )
            raise over_limit_error(identity, exceeded, now)
