"""Daily counters per submitter source: how many new stations each source has asked for today.

The aggregator's admission of new stations (`ingest.admission`) spends from these budgets. An
item per (source, UTC day) in the `sources` table, `pk = "<source>#<day>"`, with one number per
counter, added atomically (UpdateItem ADD, so concurrent aggregators share one count) and
expiring a few days later (TTL). Sources are keyed hashes (`api.sources`), never addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from openloc.store.binding import BoundModels

KEEP_DAYS = 3


class SourceBudgets(Protocol):
    def spend(self, source: str, day: str, amounts: Mapping[str, int]) -> dict[str, int]:
        """Add `amounts` (counters of `COUNTERS`) to the source's counters of `day`; the totals
        after the addition."""
        ...


def expiry(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day) + timedelta(days=KEEP_DAYS), time(), tzinfo=UTC)


COUNTERS = ("single", "fresh", "held")


class DynamoSourceBudgets(BoundModels):
    def spend(self, source: str, day: str, amounts: Mapping[str, int]) -> dict[str, int]:
        model = self.models.SourceBudgetModel
        item = model(f"{source}#{day}")
        actions = [model.expires.set(expiry(day))]
        actions += [getattr(model, name).add(value) for name, value in sorted(amounts.items())]
        item.update(actions=actions)  # UpdateItem ADD, returning the item as updated
        return {name: int(getattr(item, name) or 0) for name in amounts}


class MemorySourceBudgets:
    def __init__(self) -> None:
        self.counters: dict[str, dict[str, int]] = {}

    def spend(self, source: str, day: str, amounts: Mapping[str, int]) -> dict[str, int]:
        counters = self.counters.setdefault(f"{source}#{day}", {})
        for name, value in amounts.items():
            counters[name] = counters.get(name, 0) + value
        return {name: counters[name] for name in amounts}
