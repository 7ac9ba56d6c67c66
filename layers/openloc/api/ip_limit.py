"""Per-IP request limits for keyless requests (anonymous submissions), counted in Redis.

Fixed one-minute windows: `iplimit:<path>:<ip hash>:<minute>`. The IP is never stored: the
counter name holds a keyed BLAKE2b hash of it (key from `IP_HASH_KEY`; an IPv6 address counts
by its /64), and expires with its window. Over the limit, submissions get 503
serviceUnavailable with `Retry-After` rather than a 4xx: stumbler apps drop a batch for good on
a 4xx but keep and retry it on a 5xx, so a limit slows a client down without losing its data.
Redis down: no limit (logged and counted).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from openloc.api.client_ip import address_group
from openloc.api.errors import ApiError
from openloc.observability import logger, metrics

if TYPE_CHECKING:
    import redis

WINDOW_SECONDS = 60


def ip_digest(ip: str, key: str) -> str:
    return hashlib.blake2b(ip.encode(), key=key.encode()[:64], digest_size=12).hexdigest()


def check_ip_limit(
    redis_client: redis.Redis | None,
    ip: str | None,
    path: str,
    limit_per_minute: int,
    hash_key: str,
    now: datetime | None = None,
) -> None:
    """Raise a 503 with Retry-After once `ip` made more than `limit_per_minute` requests this minute."""
    if limit_per_minute <= 0 or redis_client is None or ip is None:
        return
    now = now or datetime.now(UTC)
    window = int(now.timestamp()) // WINDOW_SECONDS
    name = f"iplimit:{path}:{ip_digest(address_group(ip), hash_key)}:{window}"
    try:
        pipe = redis_client.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, WINDOW_SECONDS * 2)
        count = int(pipe.execute()[0])
    except Exception as error:
        logger.warning("redis unavailable for ip limit", extra={"error": type(error).__name__})
        metrics.add_metric(name="RedisErrors", unit=MetricUnit.Count, value=1)
        return
    if count > limit_per_minute:
        metrics.add_metric(name="IpLimitExceeded", unit=MetricUnit.Count, value=1)
        retry_after = str(WINDOW_SECONDS - int(now.timestamp()) % WINDOW_SECONDS)
        raise ApiError(
            503,
            "global",
            "serviceUnavailable",
            "Service Unavailable: too many requests from this address, retry later",
            headers=(("Retry-After", retry_after),),
        )
