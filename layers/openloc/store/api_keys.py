"""API keys: the `ApiKeyStore` interface, DynamoDB and in-memory implementations."""

from __future__ import annotations

from typing import Protocol

from pynamodb.exceptions import DoesNotExist

from openloc.store.models import ApiKeyModel
from openloc.store.records import ApiKeyRecord


class ApiKeyStore(Protocol):
    def get(self, key: str) -> ApiKeyRecord | None: ...

    def put(self, record: ApiKeyRecord) -> None: ...


class DynamoApiKeyStore:
    def get(self, key: str) -> ApiKeyRecord | None:
        try:
            item = ApiKeyModel.get(key, consistent_read=False)
        except DoesNotExist:
            return None
        return ApiKeyRecord(
            key=item.key,
            maxreq=int(item.maxreq or 0),
            allow_locate=bool(item.allow_locate),
            allow_region=bool(item.allow_region),
            allow_fallback=bool(item.allow_fallback),
            allow_submit=bool(item.allow_submit),
            allow_transfer=bool(item.allow_transfer),
            shortname=item.shortname,
        )

    def put(self, record: ApiKeyRecord) -> None:
        ApiKeyModel(
            record.key,
            shortname=record.shortname,
            maxreq=record.maxreq,
            allow_locate=record.allow_locate,
            allow_region=record.allow_region,
            allow_fallback=record.allow_fallback,
            allow_submit=record.allow_submit,
            allow_transfer=record.allow_transfer,
        ).save()


class MemoryApiKeyStore:
    def __init__(self, *records: ApiKeyRecord) -> None:
        self.records = {r.key: r for r in records}

    def get(self, key: str) -> ApiKeyRecord | None:
        return self.records.get(key)

    def put(self, record: ApiKeyRecord) -> None:
        self.records[record.key] = record
