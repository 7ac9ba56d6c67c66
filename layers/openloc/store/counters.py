"""Expiring counters for request limits and budgets: the `CounterStore` interface, Redis (Valkey)
and in-memory implementations.

A counter is a name, an integer and an expiry. `add` increments several counters at once,
atomically (one Lua script: INCRBY, and EXPIRE when the counter was created), and answers their
values after the increment; `read` answers current values (0 for a counter that does not exist).
Every counter of one call must share a Redis hash slot (a `{tag}` in their names) so the script
also runs on a clustered Valkey.

Redis is a limiter, never a source of truth: an error or timeout is logged and counted
(`RedisErrors`) and the call answers None ("unknown"), so the caller serves without the limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from openloc.observability import logger, metrics

if TYPE_CHECKING:
    import redis

# KEYS: counters; ARGV: amounts, then the seconds to keep each counter. Returns the new values.
ADD_SCRIPT = """
local counts = {}
local n = #KEYS
for i = 1, n do
  local count = redis.call('INCRBY', KEYS[i], tonumber(ARGV[i]))
  if count == tonumber(ARGV[i]) then
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[n + i]))
  end
  counts[i] = count
end
return counts
"""


class CounterStore(Protocol):
    def add(
        self, names: Sequence[str], ttls: Sequence[int], amounts: Sequence[int] | None = None
    ) -> list[int] | None:
        """Add `amounts` (default 1 each) to the counters, creating each with its TTL (seconds);
        their values after the addition, or None when the store cannot be reached."""
        ...

    def read(self, names: Sequence[str]) -> list[int] | None:
        """The counters' values (0 when absent), or None when the store cannot be reached."""
        ...


def _unavailable(error: Exception) -> None:
    logger.warning("redis unavailable for counters", extra={"error": type(error).__name__})
    metrics.add_metric(name="RedisErrors", unit=MetricUnit.Count, value=1)


class RedisCounters:
    """Counters in Redis; `connection()` gives the client (None: Redis not configured)."""

    def __init__(self, connection: Callable[[], redis.Redis | None]) -> None:
        self.connection = connection
        self._scripts: dict[int, Any] = {}

    def _script(self, client: redis.Redis) -> Any:
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(ADD_SCRIPT)
        return script

    def add(
        self, names: Sequence[str], ttls: Sequence[int], amounts: Sequence[int] | None = None
    ) -> list[int] | None:
        client = self.connection()
        if client is None or not names:
            return None if client is None else []
        steps = list(amounts) if amounts is not None else [1] * len(names)
        try:
            result: Any = self._script(client)(keys=list(names), args=[*steps, *ttls])
            return [int(value) for value in result]
        except Exception as error:  # redis errors and timeouts: the caller goes on without
            _unavailable(error)
            return None

    def read(self, names: Sequence[str]) -> list[int] | None:
        client = self.connection()
        if client is None or not names:
            return None if client is None else []
        try:
            values: Any = client.mget(list(names))
        except Exception as error:
            _unavailable(error)
            return None
        return [int(value) if value is not None else 0 for value in values]


class MemoryCounters:
    """The same counters in a dict, expiring by `clock` (tests, benchmarks)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.values: dict[str, tuple[int, float]] = {}  # name -> (value, expires at)
        self.ttls: dict[str, int] = {}  # the TTL each counter was created with

    def _live(self, name: str) -> int:
        value, expires = self.values.get(name, (0, 0.0))
        return value if expires > self.clock() else 0

    def add(
        self, names: Sequence[str], ttls: Sequence[int], amounts: Sequence[int] | None = None
    ) -> list[int] | None:
        steps = list(amounts) if amounts is not None else [1] * len(names)
        counts = []
        for name, ttl, step in zip(names, ttls, steps, strict=True):
            current = self._live(name)
            if current == 0:
                self.values[name] = (step, self.clock() + ttl)
                self.ttls[name] = ttl
            else:
                self.values[name] = (current + step, self.values[name][1])
            counts.append(self.values[name][0])
        return counts

    def read(self, names: Sequence[str]) -> list[int] | None:
        return [self._live(name) for name in names]


class UnavailableCounters:
    """A store that is down: every call answers None (the limits are then not applied)."""

    def add(
        self, names: Sequence[str], ttls: Sequence[int], amounts: Sequence[int] | None = None
    ) -> list[int] | None:
        return None

    def read(self, names: Sequence[str]) -> list[int] | None:
        return None
