"""Fail-soft request limits per client identity and per source IP, counted in Redis.

Per request, path, client identity (a key or a User-Agent family, `openloc.api.access`) and
fixed window (the current minute and the current UTC day), one counter script increments
atomically (`openloc.store.counters`):

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

A User-Agent costs nothing to change, so keyless requests are also counted per **address**,
across every User-Agent family and every path: `rl:{a:<ip hash>}:<window>`, a second script call
(its own Redis hash slot). An address over `LIMIT_IP_PER_MINUTE` / `LIMIT_IP_PER_DAY` keyless
requests is throttled whatever family it claims, so a client that rotates its User-Agent is held
to one budget per address. Keys are not under this cap: a key is issued, not invented.

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

from aws_lambda_powertools.metrics import MetricUnit

from openloc.api.access import ClientIdentity
from openloc.api.client_ip import address_group, ip_digest
from openloc.api.errors import ApiError, daily_limit, rate_limited
from openloc.observability import logger, metrics
from openloc.store.counters import CounterStore

DAY_SECONDS = 86_400
MINUTE_SECONDS = 60


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


def over_limit_error(identity: ClientIdentity, windows: list[Window], now: datetime) -> ApiError:
    retry_after = max(seconds_left(window, now) for window in windows)
    if identity.keyed and Window.DAY in windows:
        error = daily_limit()
        error.headers = (("Retry-After", str(retry_after)),)
        return error
    return rate_limited(retry_after)


@dataclass(frozen=True)
class LimitSettings:
    per_ip_minute: int
    per_ip_day: int


class Limiter:
    def __init__(self, counters: CounterStore, settings: LimitSettings, hash_key: Callable[[], str]) -> None:
        self.counters = counters
        self.settings = settings
        self.hash_key = hash_key

    def budgets(self, identity: ClientIdentity) -> list[Budget]:
        budgets = [
            Budget(Window.MINUTE, identity.per_minute, self.settings.per_ip_minute),
            Budget(Window.DAY, identity.daily, self.settings.per_ip_day),
        ]
        return [budget for budget in budgets if budget.identity > 0]

    def address_caps(self, identity: ClientIdentity) -> list[tuple[Window, int]]:
        """The per-address caps of keyless requests (across families and paths)."""
        if identity.keyed:
            return []
        caps = [(Window.MINUTE, self.settings.per_ip_minute), (Window.DAY, self.settings.per_ip_day)]
        return [(window, cap) for window, cap in caps if cap > 0]

    def _identity_exceeded(
        self, identity: ClientIdentity, path: str, ip_hash: str | None, now: datetime
    ) -> list[Window]:
        budgets = self.budgets(identity)
        counters: list[tuple[Budget, str, str | None]] = []  # budget, identity counter, IP counter
        for budget in budgets:
            name = f"rl:{{{identity.tag}}}:{path}:{window_id(budget.window, now)}"
            per_ip = f"{name}:{ip_hash}" if ip_hash is not None and budget.per_ip > 0 else None
            counters.append((budget, name, per_ip))
        names: list[str] = []
        ttls: list[int] = []
        for budget, *pair in counters:
            for name in filter(None, pair):
                names.append(name)
                ttls.append(seconds_left(budget.window, now) + MINUTE_SECONDS)
        if not names:
            return []
        values = self.counters.add(names, ttls)
        if values is None:  # Redis unavailable: serve without limits (logged by the store)
            return []
        counts = dict(zip(names, values, strict=True))
        exceeded: list[Window] = []
        for budget, name, per_ip in counters:
            usage = Usage(counts[name], counts[per_ip] if per_ip else None)
            if over_budget(budget, usage):
                exceeded.append(budget.window)
            elif usage.identity > budget.identity:
                metrics.add_metric(name="LimitServedByIpShare", unit=MetricUnit.Count, value=1)
        return exceeded

    def _address_exceeded(self, identity: ClientIdentity, ip_hash: str | None, now: datetime) -> list[Window]:
        caps = self.address_caps(identity)
        if ip_hash is None or not caps:
            return []
        names = [f"rl:{{a:{ip_hash}}}:{window_id(window, now)}" for window, _ in caps]
        ttls = [seconds_left(window, now) + MINUTE_SECONDS for window, _ in caps]
        values = self.counters.add(names, ttls)
        if values is None:
            return []
        return [window for (window, cap), count in zip(caps, values, strict=True) if count > cap]

    def check(self, identity: ClientIdentity, path: str, ip: str | None, now: datetime | None = None) -> None:
        """Count this request; raise the over-limit answer when it is throttled."""
        if not self.budgets(identity) and not self.address_caps(identity):
            return
        now = now or datetime.now(UTC)
        ip_hash = ip_digest(address_group(ip), self.hash_key()) if ip else None
        exceeded = self._identity_exceeded(identity, path, ip_hash, now)
        by_address = self._address_exceeded(identity, ip_hash, now)
        if by_address:
            metrics.add_metric(name="AddressLimitExceeded", unit=MetricUnit.Count, value=1)
        exceeded += [window for window in by_address if window not in exceeded]
        if exceeded:
            metrics.add_metric(
                name="DailyLimitExceeded" if Window.DAY in exceeded else "BurstLimitExceeded",
                unit=MetricUnit.Count,
                value=1,
            )
            logger.info(
                "request over limit",
                extra={
                    "client": identity.label,
                    "path": path,
                    "windows": [w.value for w in exceeded],
                    "by_address": bool(by_address),
                },
            )
            raise over_limit_error(identity, exceeded, now)
