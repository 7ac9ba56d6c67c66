"""Object storage (the S3 buckets): the `ObjectStore` interface, S3 and in-memory implementations.

Every write sets Content-Type and Cache-Control, which CloudFront passes on. Besides whole-object
get/put/delete/list, a store offers what the publishing jobs need:

- `writer(key, …)`: a write-only file object streamed into a multipart upload with a bounded
  buffer (one part, `part_size`), finished on a clean exit and aborted on an error;
- `put_file(key, path, …)`: upload a file from disk, in parts when it is large;
- `get_versioned` / `put_if`: read with a version tag (the S3 ETag) and write only if the object
  is still at that version (or absent) — the read-modify-write of `downloads.json`;
- `existing(keys)`: which of the keys exist (one listing per folder).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from openloc.settings import Settings

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
DEFAULT_PART_SIZE = 8 * 1024 * 1024
_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class StoredObject:
    body: bytes
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class UploadResult:
    key: str
    size: int
    sha256: str
    parts: int


class ObjectWriter(Protocol):
    """A write-only binary file whose bytes become one object when the `with` block ends."""

    result: UploadResult | None

    def write(self, data: bytes | bytearray | memoryview) -> int: ...

    def writable(self) -> bool: ...

    def flush(self) -> None: ...

    def __enter__(self) -> ObjectWriter: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...


class ObjectStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None: ...

    def get(self, key: str) -> bytes | None:
        """The object's body, or None when there is no such object."""
        ...

    def delete(self, keys: Iterable[str]) -> int: ...

    def keys(self, prefix: str) -> Iterator[str]: ...

    def existing(self, keys: Iterable[str]) -> set[str]:
        """The subset of `keys` that exist."""
        ...

    def get_versioned(self, key: str) -> tuple[bytes | None, str | None]:
        """(body, version tag), or (None, None) when there is no such object."""
        ...

    def put_if(
        self, key: str, body: bytes, version: str | None, content_type: str, cache_control: str
    ) -> bool:
        """Write only if the object is still at `version` (None: still absent); False if it is not."""
        ...

    def writer(
        self,
        key: str,
        content_type: str,
        cache_control: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> ObjectWriter: ...

    def put_file(self, key: str, path: Path, content_type: str, cache_control: str) -> UploadResult: ...


def _error_code(error: Exception) -> str:
    response: Any = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingWriter:
    """Buffering, hashing and counting shared by the S3 and in-memory writers."""

    def __init__(self, key: str, part_size: int) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.key = key
        self.part_size = part_size
        self._buffer = bytearray()
        self._hash = hashlib.sha256()
        self._size = 0
        self.parts = 0
        self.result: UploadResult | None = None
        self.peak_buffer = 0  # largest buffer held (for the benchmark)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.result is not None:
            raise ValueError("write to a finished upload")
        self._buffer += data
        self._hash.update(data)
        self._size += len(data)
        self.peak_buffer = max(self.peak_buffer, len(self._buffer))
        if len(self._buffer) >= self.part_size:
            # The whole buffer is the part (parts need not be equal): handed over without a copy.
            part, self._buffer = self._buffer, bytearray()
            self.parts += 1
            self._send_part(part)
        return len(data)

    def flush(self) -> None:
        """Parts go out when full; nothing to do before that."""

    def finish(self) -> UploadResult:
        if self.result is not None:
            return self.result
        if self._buffer or self.parts == 0:
            self.parts += 1
            self._finish(bytes(self._buffer))
        else:
            self._finish(None)
        self._buffer.clear()
        self.result = UploadResult(self.key, self._size, self._hash.hexdigest(), self.parts)
        return self.result

    def _send_part(self, part: bytearray) -> None:
        raise NotImplementedError

    def _finish(self, last: bytes | None) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        self._buffer.clear()

    def __enter__(self) -> _HashingWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if error is None:
            self.finish()
        else:
            self.abort()


class MultipartWriter(_HashingWriter):
    """Streams into an S3 multipart upload; memory stays at about one part whatever the size.
    An object smaller than one part is written with a single PutObject; on any error the upload
    is aborted, so no orphan parts are billed."""

    def __init__(self, s3: Any, bucket: str, key: str, part_size: int, headers: dict[str, str]) -> None:
        super().__init__(key, part_size)
        self.s3 = s3
        self.bucket = bucket
        self.headers = headers
        self._upload_id: str | None = None
        self._etags: list[dict[str, Any]] = []

    def _send_part(self, part: bytearray | bytes) -> None:
        if self._upload_id is None:
            created = self.s3.create_multipart_upload(Bucket=self.bucket, Key=self.key, **self.headers)
            self._upload_id = str(created["UploadId"])
        number = len(self._etags) + 1
        response = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=part
        )
        self._etags.append({"PartNumber": number, "ETag": response["ETag"]})

    def _finish(self, last: bytes | None) -> None:
        if self._upload_id is None:
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=last or b"", **self.headers)
            return
        if last:
            self._send_part(last)
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._etags}
        )

    def abort(self) -> None:
        if self._upload_id is not None and self.result is None:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            self._upload_id = None
        super().abort()


def _headers(content_type: str, cache_control: str | None) -> dict[str, str]:
    headers = {"ContentType": content_type}
    if cache_control:
        headers["CacheControl"] = cache_control
    return headers


class S3ObjectStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings, bucket: str | None = None) -> S3ObjectStore:
        """The assets bucket (or `bucket`, e.g. `settings.archive_bucket`) of a deployment."""
        from openloc.store.aws import client

        return cls(client("s3"), bucket or settings.assets_bucket)

    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **_headers(content_type, cache_control))

    def get(self, key: str) -> bytes | None:
        return self.get_versioned(key)[0]

    def get_versioned(self, key: str) -> tuple[bytes | None, str | None]:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
        except Exception as error:
            if _error_code(error) in _MISSING_CODES:
                return None, None
            raise
        return response["Body"].read(), str(response["ETag"])

    def put_if(
        self, key: str, body: bytes, version: str | None, content_type: str, cache_control: str
    ) -> bool:
        condition = {"IfMatch": version} if version is not None else {"IfNoneMatch": "*"}
        try:
            self.s3.put_object(
                Bucket=self.bucket, Key=key, Body=body, **_headers(content_type, cache_control), **condition
            )
        except Exception as error:
            if _error_code(error) in _CONFLICT_CODES:
                return False
            raise
        return True

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

    def existing(self, keys: Iterable[str]) -> set[str]:
        """One paginated listing per folder of the keys."""
        wanted = set(keys)
        found: set[str] = set()
        for folder in sorted({posixpath.dirname(k) for k in wanted}):
            found.update(k for k in self.keys(f"{folder}/" if folder else "") if k in wanted)
        return found

    def writer(
        self,
        key: str,
        content_type: str,
        cache_control: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> MultipartWriter:
        return MultipartWriter(self.s3, self.bucket, key, part_size, _headers(content_type, cache_control))

    def put_file(self, key: str, path: Path, content_type: str, cache_control: str) -> UploadResult:
        with path.open("rb") as stream:
            self.s3.upload_fileobj(stream, self.bucket, key, ExtraArgs=_headers(content_type, cache_control))
        return UploadResult(key, path.stat().st_size, file_sha256(path), 1)

    def open(self, key: str) -> tuple[IO[bytes], int]:
        """A stream of the object's bytes and its size (`openloc import s3://…`)."""
        response = self.s3.get_object(Bucket=self.bucket, Key=key)
        return response["Body"], int(response["ContentLength"])


class _MemoryWriter(_HashingWriter):
    def __init__(self, store: MemoryObjectStore, key: str, part_size: int, headers: StoredObject) -> None:
        super().__init__(key, part_size)
        self.store = store
        self.headers = headers
        self._parts: list[bytes] = []

    def _send_part(self, part: bytearray | bytes) -> None:
        self._parts.append(bytes(part))

    def _finish(self, last: bytes | None) -> None:
        body = b"".join([*self._parts, last or b""])
        self.store.put(self.key, body, self.headers.content_type, self.headers.cache_control)


@dataclass
class MemoryObjectStore:
    objects: dict[str, StoredObject] = field(default_factory=dict)
    puts: int = 0
    versions: dict[str, int] = field(default_factory=dict)

    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        self.puts += 1
        self.objects[key] = StoredObject(body, content_type, cache_control)
        self.versions[key] = self.versions.get(key, 0) + 1

    def get(self, key: str) -> bytes | None:
        stored = self.objects.get(key)
        return stored.body if stored else None

    def get_versioned(self, key: str) -> tuple[bytes | None, str | None]:
        stored = self.objects.get(key)
        return (stored.body, str(self.versions[key])) if stored else (None, None)

    def put_if(
        self, key: str, body: bytes, version: str | None, content_type: str, cache_control: str
    ) -> bool:
        current = str(self.versions[key]) if key in self.objects else None
        if current != version:
            return False
        self.put(key, body, content_type, cache_control)
        return True

    def delete(self, keys: Iterable[str]) -> int:
        return sum(self.objects.pop(key, None) is not None for key in list(keys))

    def keys(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))

    def existing(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k in self.objects}

    def writer(
        self,
        key: str,
        content_type: str,
        cache_control: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> _MemoryWriter:
        return _MemoryWriter(self, key, part_size, StoredObject(b"", content_type, cache_control or ""))

    def put_file(self, key: str, path: Path, content_type: str, cache_control: str) -> UploadResult:
        body = path.read_bytes()
        self.put(key, body, content_type, cache_control)
        return UploadResult(key, len(body), hashlib.sha256(body).hexdigest(), 1)


def open_location(location: str) -> tuple[IO[bytes], int | None]:
    """A binary stream and its size (when known) for a local path, an http(s) URL or
    `s3://bucket/key` (`openloc import`); the caller closes it."""
    if location.startswith(("http://", "https://")):
        import urllib.request

        response: Any = urllib.request.urlopen(location, timeout=60)
        length = response.headers.get("Content-Length")
        return response, int(length) if length and length.isdigit() else None
    if location.startswith("s3://"):
        from openloc.store.aws import client

        bucket, _, key = location.removeprefix("s3://").partition("/")
        stream, size = S3ObjectStore(client("s3"), bucket).open(key)
        return stream, size
    handle = open(location, "rb")  # noqa: SIM115 (the caller closes it)
    return handle, os.fstat(handle.fileno()).st_size
