"""Limits of submissions: per address without a key, per key and UTC day with one.

- **Without a valid submit key**: at most `SUBMIT_IP_LIMIT_PER_MINUTE` requests per client
  address (an IPv6 address counts by its /64) and minute, **all submission paths together**
  (`/v2/geosubmit`, `/v1/geosubmit`, `/v1/submit`): `sub:{a:<ip hash>}:m<minute>`.
- **With a key allowed to submit**: the key's `maxsubmit` observations (Wi-Fi, Bluetooth and cell
  entries of accepted reports) per UTC day, stored with the key (`openloc keys create
  --maxsubmit`; 0 = unlimited): `sub:{k:<key digest>}:d<day>`. The budget is checked before the
  body is read and charged with what the request actually queued, so one request may take the
  budget past its end, and the next is refused.

Over either, the answer is `503 serviceUnavailable` with `Retry-After` (the rest of the minute,
or of the UTC day) rather than a 4xx: stumbler apps drop a batch for good on a 4xx but keep and
retry it on a 5xx, so a limit slows a client down without losing its data. Counters are named by
keyed hashes (`IP_HASH_KEY`), never by an address or key, and expire with their window. Redis
missing or down: no limit (logged and counted by the store).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit

from openloc.api.client_ip import address_group, ip_digest
from openloc.api.errors import ApiError
from openloc.observability import metrics
from openloc.store.counters import CounterStore

MINUTE_SECONDS = 60
DAY_SECONDS = 86_400


def retry_later(message: str, retry_after: int) -> ApiError:
    return ApiError(
        503,
        "global",
        "serviceUnavailable",
        f"Service Unavailable: {message}, retry later",
        headers=(("Retry-After", str(max(1, retry_after))),),
    )


def check_ip_limit(
    counters: CounterStore,
    ip: str | None,
    limit_per_minute: int,
    hash_key: str,
    now: datetime | None = None,
) -> None:
    """Count an anonymous submission; 503 with Retry-After once `ip` made more than
    `limit_per_minute` of them this minute (all paths together)."""
    if limit_per_minute <= 0 or ip is None:
        return
    now = now or datetime.now(UTC)
    stamp = int(now.timestamp())
    name = f"sub:{{a:{ip_digest(address_group(ip), hash_key)}}}:m{stamp // MINUTE_SECONDS}"
    counts = counters.add([name], [2 * MINUTE_SECONDS])
    if counts is not None and counts[0] > limit_per_minute:
        metrics.add_metric(name="IpLimitExceeded", unit=MetricUnit.Count, value=1)
        raise retry_later("too many requests from this address", MINUTE_SECONDS - stamp % MINUTE_SECONDS)


def _budget_counter(key_digest: str, now: datetime) -> tuple[str, int]:
    """The key's counter today and the seconds left in the UTC day."""
    return f"sub:{{k:{key_digest}}}:d{now:%Y%m%d}", DAY_SECONDS - int(now.timestamp()) % DAY_SECONDS


def check_key_budget(
    counters: CounterStore, key_digest: str, budget: int, now: datetime | None = None
) -> None:
    """503 with Retry-After (the rest of the UTC day) when the key used up its daily budget."""
    if budget <= 0:
        return
    now = now or datetime.now(UTC)
    name, left = _budget_counter(key_digest, now)
    counts = counters.read([name])
    if counts is not None and counts[0] >= budget:
        metrics.add_metric(name="SubmitBudgetExceeded", unit=MetricUnit.Count, value=1)
        raise retry_later("this API key's daily submission budget is used up", left)


def charge_key_budget(
    counters: CounterStore, key_digest: str, budget: int, observations: int, now: datetime | None = None
) -> None:
    """Add what a request queued to the key's counter of the day (nothing for an unlimited key)."""
    if budget <= 0 or observations <= 0:
        return
    now = now or datetime.now(UTC)
    name, left = _budget_counter(key_digest, now)
    counters.add([name], [left + MINUTE_SECONDS], [observations])
