"""API keys: the `ApiKeyStore` interface, DynamoDB and in-memory implementations."""

from __future__ import annotations

from typing import Protocol

from openloc.model.records import DEFAULT_MAXSUBMIT, ApiKeyRecord
from openloc.store.binding import BoundModels


class ApiKeyStore(Protocol):
    def get(self, key: str) -> ApiKeyRecord | None: ...

    def put(self, record: ApiKeyRecord) -> None: ...

    def delete(self, key: str) -> None: ...


class DynamoApiKeyStore(BoundModels):
    """Keys in DynamoDB; pynamodb is imported and bound on first use (see `openloc.store.binding`)."""

    def warm(self) -> None:
        self.models.ApiKeyModel._get_connection().connection.client  # noqa: B018

    def ping(self) -> None:
        """Raise unless the table answers (the heartbeat's database check: DescribeTable)."""
        self.models.ApiKeyModel.describe_table()

    def get(self, key: str) -> ApiKeyRecord | None:
        from pynamodb.exceptions import DoesNotExist

        try:
            item = self.models.ApiKeyModel.get(key, consistent_read=False)
        except DoesNotExist:
            return None
        return ApiKeyRecord(
            key=item.key,
            maxreq=int(item.maxreq or 0),
            maxsubmit=DEFAULT_MAXSUBMIT if item.maxsubmit is None else int(item.maxsubmit),
            allow_locate=bool(item.allow_locate),
            allow_region=bool(item.allow_region),
            allow_submit=bool(item.allow_submit),
            allow_transfer=bool(item.allow_transfer),
            shortname=item.shortname,
        )

    def put(self, record: ApiKeyRecord) -> None:
        self.models.ApiKeyModel(
            record.key,
            shortname=record.shortname,
            maxreq=record.maxreq,
            maxsubmit=record.maxsubmit,
            allow_locate=record.allow_locate,
            allow_region=record.allow_region,
            allow_submit=record.allow_submit,
            allow_transfer=record.allow_transfer,
        ).save()

    def delete(self, key: str) -> None:
        self.models.ApiKeyModel(key).delete()


class MemoryApiKeyStore:
    def __init__(self, *records: ApiKeyRecord) -> None:
        self.records = {r.key: r for r in records}

    def get(self, key: str) -> ApiKeyRecord | None:
        return self.records.get(key)

    def put(self, record: ApiKeyRecord) -> None:
        self.records[record.key] = record

    def delete(self, key: str) -> None:
        self.records.pop(key, None)
