"""Object storage (the S3 buckets): the `ObjectStore` interface, S3 and in-memory implementations.

Every write sets Content-Type and Cache-Control, which CloudFront passes on. Besides whole-object
get/put/delete/list, a store offers what the publishing jobs need:

- `writer(key, …)`: a write-only file object streamed into a multipart upload with a bounded
  buffer (one part, `part_size`), finished on a clean exit and aborted on an error;
- `put_file(key, path, …)`: upload a file from disk, in parts when it is large;
- `get_versioned` / `put_if`: read with a version tag (the S3 ETag) and write only if the object
  is still at that version (or absent) — the read-modify-write of `downloads.json`;
- `existing(keys)`: which of the keys exist (one listing per folder);
- `get_range` / `size`: a byte range of an object and its size (sharded jobs read their inputs
  by range);
- `compose(key, pieces, …)`: one object made of byte ranges of other objects, in order, possibly
  in another bucket (the merge step of a sharded job): on S3 a multipart upload whose large pieces
  are `UploadPartCopy` calls (copied inside S3, never downloaded) and whose small ones are
  gathered into parts of at least `MIN_PART_SIZE`; the SHA-256 of the result is computed by
  reading the pieces once, in order.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterable, Iterator, Sequence
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


@dataclass(frozen=True)
class Piece:
    """Bytes [start, end) of the object `key` in `store` (end None: to the end of the object)."""

    store: ObjectStore
    key: str
    start: int = 0
    end: int | None = None

    def bounds(self) -> tuple[int, int]:
        end = self.end if self.end is not None else self.store.size(self.key)
        if end is None:
            raise FileNotFoundError(self.key)
        return self.start, end


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

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of an object (FileNotFoundError when there is no such object)."""
        ...

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is no such object."""
        ...

    def compose(
        self, key: str, pieces: Sequence[Piece], content_type: str, cache_control: str
    ) -> UploadResult:
        """Write `key` as the concatenation of `pieces` (module docstring)."""
        ...


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

    def get_range(self, key: str, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}")
        except Exception as error:
            if _error_code(error) in _MISSING_CODES:
                raise FileNotFoundError(key) from error
            raise
        data: bytes = response["Body"].read()
        return data

    def size(self, key: str) -> int | None:
        try:
            response = self.s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as error:
            if _error_code(error) in _MISSING_CODES:
                return None
            raise
        return int(response["ContentLength"])

    def compose(
        self, key: str, pieces: Sequence[Piece], content_type: str, cache_control: str
    ) -> UploadResult:
        upload = _S3Composer(self.s3, self.bucket, key, _headers(content_type, cache_control))
        return compose_pieces(key, pieces, upload)

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
        yield from sorted(k for k in list(self.objects) if k.startswith(prefix))  # threads may write

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

    def get_range(self, key: str, start: int, end: int) -> bytes:
        stored = self.objects.get(key)
        if stored is None:
            raise FileNotFoundError(key)
        return stored.body[start:end]

    def size(self, key: str) -> int | None:
        stored = self.objects.get(key)
        return len(stored.body) if stored else None

    def compose(
        self, key: str, pieces: Sequence[Piece], content_type: str, cache_control: str
    ) -> UploadResult:
        sink = _MemoryComposer(self, key, StoredObject(b"", content_type, cache_control))
        return compose_pieces(key, pieces, sink)


class _Composer(Protocol):
    """Where `compose_pieces` sends the parts of the object it builds."""

    def can_copy(self, piece: Piece) -> bool:
        """Whether the piece can be copied server-side (an S3 object this client can read)."""
        ...

    def copy_part(self, piece: Piece, start: int, end: int) -> None: ...

    def upload_part(self, data: bytes) -> None: ...

    def complete(self) -> int:
        """Finish the object; the number of parts it was written in."""
        ...

    def abort(self) -> None: ...


READ_CHUNK = 8 * 1024 * 1024
MAX_PART_SIZE = 5 * 1024**3  # S3's largest part
COPY_STEP = 4 * 1024**3  # a longer piece is copied in 4 GiB steps (the rest is then > 1 GiB)


def _read_chunks(piece: Piece, start: int, end: int) -> Iterator[bytes]:
    position = start
    while position < end:
        chunk = piece.store.get_range(piece.key, position, min(end, position + READ_CHUNK))
        if not chunk:
            raise ValueError(f"{piece.key} ended at byte {position}, before {end}")
        position += len(chunk)
        yield chunk


def compose_pieces(
    key: str, pieces: Sequence[Piece], sink: _Composer, part_size: int = DEFAULT_PART_SIZE
) -> UploadResult:
    """Concatenate `pieces` into one object through `sink` with bounded memory (about two parts).

    A piece of at least `MIN_PART_SIZE` bytes is copied server-side when the sink can (after its
    head tops up a pending buffer to `MIN_PART_SIZE`, if one is pending); smaller pieces are read
    into the buffer, sent as a part once it holds `part_size` bytes. Every byte is read once for
    the SHA-256, in order."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray()
    try:
        for piece in pieces:
            start, end = piece.bounds()
            size += end - start
            topped_up = end - start - (MIN_PART_SIZE - len(buffer))
            if buffer and sink.can_copy(piece) and topped_up >= MIN_PART_SIZE:
                head = piece.store.get_range(piece.key, start, start + MIN_PART_SIZE - len(buffer))
                digest.update(head)
                buffer += head
                start += len(head)
                sink.upload_part(bytes(buffer))
                buffer.clear()
            if not buffer and sink.can_copy(piece) and end - start >= MIN_PART_SIZE:
                for chunk in _read_chunks(piece, start, end):
                    digest.update(chunk)
                while end - start > MAX_PART_SIZE:  # S3 parts are at most 5 GiB
                    sink.copy_part(piece, start, start + COPY_STEP)
                    start += COPY_STEP
                sink.copy_part(piece, start, end)
                continue
            for chunk in _read_chunks(piece, start, end):
                digest.update(chunk)
                buffer += chunk
                if len(buffer) >= part_size:
                    sink.upload_part(bytes(buffer))
                    buffer.clear()
        if buffer:
            sink.upload_part(bytes(buffer))
        parts = sink.complete()
    except BaseException:
        sink.abort()
        raise
    return UploadResult(key, size, digest.hexdigest(), parts)


class _S3Composer:
    def __init__(self, s3: Any, bucket: str, key: str, headers: dict[str, str]) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        self.headers = headers
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._single: bytes | None = None

    def _upload(self) -> str:
        if self._upload_id is None:
            created = self.s3.create_multipart_upload(Bucket=self.bucket, Key=self.key, **self.headers)
            self._upload_id = str(created["UploadId"])
        return self._upload_id

    def can_copy(self, piece: Piece) -> bool:
        return isinstance(piece.store, S3ObjectStore)

    def copy_part(self, piece: Piece, start: int, end: int) -> None:
        self._flush_single()
        assert isinstance(piece.store, S3ObjectStore)
        number = len(self._parts) + 1
        response = self.s3.upload_part_copy(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload(),
            PartNumber=number,
            CopySource={"Bucket": piece.store.bucket, "Key": piece.key},
            CopySourceRange=f"bytes={start}-{end - 1}",
        )
        self._parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})

    def upload_part(self, data: bytes) -> None:
        # The first buffered part waits: if nothing follows, the object is one PutObject.
        self._flush_single()
        self._single = data

    def _flush_single(self) -> None:
        if self._single is None:
            return
        data, self._single = self._single, None
        number = len(self._parts) + 1
        response = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload(), PartNumber=number, Body=data
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def complete(self) -> int:
        if not self._parts:
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=self._single or b"", **self.headers)
            self._single = None
            return 1
        self._flush_single()
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload(),
            MultipartUpload={"Parts": self._parts},
        )
        return len(self._parts)

    def abort(self) -> None:
        if self._upload_id is not None:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            self._upload_id = None


class _MemoryComposer:
    def __init__(self, store: MemoryObjectStore, key: str, headers: StoredObject) -> None:
        self.store = store
        self.key = key
        self.headers = headers
        self.parts: list[bytes] = []

    def can_copy(self, piece: Piece) -> bool:
        return isinstance(piece.store, MemoryObjectStore)

    def copy_part(self, piece: Piece, start: int, end: int) -> None:
        self.parts.append(piece.store.get_range(piece.key, start, end))

    def upload_part(self, data: bytes) -> None:
        self.parts.append(data)

    def complete(self) -> int:
        self.store.put(self.key, b"".join(self.parts), self.headers.content_type, self.headers.cache_control)
        return max(len(self.parts), 1)

    def abort(self) -> None:
        self.parts.clear()


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
