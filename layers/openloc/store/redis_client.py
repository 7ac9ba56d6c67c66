"""The Redis connection (API-key cache, rate limits). Redis is never a source of truth."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from openloc.settings import get_settings

if TYPE_CHECKING:
    import redis


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis | None:
    """A client with short timeouts, or None when `REDIS_URL` is empty (run without limits)."""
    settings = get_settings()
    if not settings.redis_url:
        return None
    import redis  # deferred: ~145 ms of import, not needed when Redis is disabled

    timeout = settings.redis_timeout_ms / 1000.0
    return redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=0,
    )
