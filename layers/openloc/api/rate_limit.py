"""Daily request limits per API key and endpoint, counted in Redis.

Counter `apilimit:<key>:<path>:<YYYYMMDD>` is incremented per request and expires a little after
the UTC day ends. Redis down or slow: the request is served without a limit (logged + counted).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from openloc.api.errors import daily_limit
from openloc.observability import logger, metrics
from openloc.store.records import ApiKeyRecord

if TYPE_CHECKING:
    import redis


def counter_key(key: str, path: str, now: datetime) -> str:
    return f"apilimit:{key}:{path}:{now:%Y%m%d}"


def check_daily_limit(
    record: ApiKeyRecord, path: str, redis_client: redis.Redis | None, now: datetime | None = None
) -> None:
    """Raise dailyLimitExceeded once the key made more than `maxreq` requests to `path` today."""
    if record.maxreq <= 0 or redis_client is None:
        return
    now = now or datetime.now(UTC)
    name = counter_key(record.key, path, now)
    day_end = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1, hours=1)
    try:
        pipe = redis_client.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expireat(name, int(day_end.timestamp()))
        count = int(pipe.execute()[0])
    except Exception as error:
        logger.warning("redis unavailable for rate limit", extra={"error": type(error).__name__})
        metrics.add_metric(name="RedisErrors", unit=MetricUnit.Count, value=1)
        return
    if count > record.maxreq:
        metrics.add_metric(name="DailyLimitExceeded", unit=MetricUnit.Count, value=1)
        raise daily_limit()
