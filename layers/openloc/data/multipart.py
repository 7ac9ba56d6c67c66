"""A write-only file object that streams into an S3 multipart upload with a bounded buffer.

Memory stays at about one part (`part_size` plus the last write) whatever the object's size:
the buffer is uploaded as a part, without a copy, as soon as it reaches `part_size`. An object
smaller than one part is written with a single PutObject instead. The SHA-256 and size of the
stored bytes are computed on the way (for the downloads manifest). On any error the multipart
upload is aborted, so no orphan parts are billed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from types import TracebackType
from typing import Any

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
DEFAULT_PART_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class UploadResult:
    key: str
    size: int
    sha256: str
    parts: int


class MultipartWriter:
    def __init__(
        self,
        s3: Any,
        bucket: str,
        key: str,
        part_size: int = DEFAULT_PART_SIZE,
        content_type: str = "application/octet-stream",
        cache_control: str | None = None,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        self.part_size = part_size
        self.headers: dict[str, str] = {"ContentType": content_type}
        if cache_control:
            self.headers["CacheControl"] = cache_control
        self._buffer = bytearray()
        self._hash = hashlib.sha256()
        self._size = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.result: UploadResult | None = None
        self.peak_buffer = 0  # largest buffer held (for the benchmark)

    # --- file protocol (what gzip.GzipFile calls) ---
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
            self._upload_part(part)
        return len(data)

    def flush(self) -> None:
        """Parts go out when full; nothing to do before that."""

    # --- upload ---
    def _upload_part(self, body: bytes | bytearray) -> None:
        if self._upload_id is None:
            created = self.s3.create_multipart_upload(Bucket=self.bucket, Key=self.key, **self.headers)
            self._upload_id = str(created["UploadId"])
        number = len(self._parts) + 1
        response = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=body
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def finish(self) -> UploadResult:
        """Upload what is left and complete the object."""
        if self.result is not None:
            return self.result
        if self._upload_id is None:
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer), **self.headers)
        else:
            if self._buffer:
                self._upload_part(self._buffer)
            self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buffer.clear()
        self.result = UploadResult(self.key, self._size, self._hash.hexdigest(), max(len(self._parts), 1))
        return self.result

    def abort(self) -> None:
        if self._upload_id is not None and self.result is None:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            self._upload_id = None
        self._buffer.clear()

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if error is None:
            self.finish()
        else:
            self.abort()
