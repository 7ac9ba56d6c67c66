"""Idempotency markers: SQS messages that were fully aggregated (DynamoDB, TTL one week)."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from openloc.store.binding import BoundModels

KEEP_SECONDS = 7 * 24 * 3600  # longer than any redelivery (SQS retention is at most 14 days)


class ProcessedMessages(Protocol):
    def seen(self, message_id: str) -> bool: ...

    def mark(self, message_id: str) -> None: ...


class DynamoProcessedMessages(BoundModels):
    def seen(self, message_id: str) -> bool:
        from pynamodb.exceptions import DoesNotExist

        try:
            self.models.ProcessedModel.get(message_id, consistent_read=True)
        except DoesNotExist:
            return False
        return True

    def mark(self, message_id: str) -> None:
        self.models.ProcessedModel(message_id, expires=timedelta(seconds=KEEP_SECONDS)).save()


class MemoryProcessedMessages:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    def seen(self, message_id: str) -> bool:
        return message_id in self.ids

    def mark(self, message_id: str) -> None:
        self.ids.add(message_id)
