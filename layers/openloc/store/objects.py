"""Published objects (the assets bucket): an S3 implementation and an in-memory one for tests.

Every object is written whole with its Content-Type and Cache-Control, which CloudFront passes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredObject:
    body: bytes
    content_type: str
    cache_control: str


class ObjectStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None: ...

    def get(self, key: str) -> bytes | None:
        """The object's body, or None when there is no such object."""
        ...

    def delete(self, keys: Iterable[str]) -> int: ...

    def keys(self, prefix: str) -> Iterator[str]: ...


class S3ObjectStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, CacheControl=cache_control
        )

    def get(self, key: str) -> bytes | None:
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return body

    def delete(self, keys: Iterable[str]) -> int:
        batch: list[str] = []
        deleted = 0
        for key in keys:
            batch.append(key)
            if len(batch) == 1000:  # DeleteObjects takes at most 1 000 keys
                deleted += self._delete(batch)
                batch = []
        return deleted + (self._delete(batch) if batch else 0)

    def _delete(self, keys: list[str]) -> int:
        self.s3.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
        )
        return len(keys)

    def keys(self, prefix: str) -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield str(item["Key"])


@dataclass
class MemoryObjectStore:
    objects: dict[str, StoredObject] = field(default_factory=dict)
    puts: int = 0

    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        self.puts += 1
        self.objects[key] = StoredObject(body, content_type, cache_control)

    def get(self, key: str) -> bytes | None:
        stored = self.objects.get(key)
        return stored.body if stored else None

    def delete(self, keys: Iterable[str]) -> int:
        return sum(self.objects.pop(key, None) is not None for key in list(keys))

    def keys(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))
