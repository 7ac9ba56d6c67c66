"""Raw observation archive in S3: `observations/YYYY/MM/DD/HH/<uuid>.jsonl.gz`, replayable."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol


def archive_key(now: datetime, name: str | None = None) -> str:
    return f"observations/{now:%Y/%m/%d/%H}/{name or uuid.uuid4().hex}.jsonl.gz"


def encode_jsonl_gz(reports: Sequence[dict[str, Any]]) -> bytes:
    lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in reports)
    return gzip.compress(lines.encode(), compresslevel=6)


def decode_jsonl_gz(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(data).decode().splitlines() if line]


class Archive(Protocol):
    def put(self, reports: Sequence[dict[str, Any]], now: datetime, name: str | None = None) -> str: ...


class S3Archive:
    def __init__(self, bucket: str, s3: Any) -> None:
        self.bucket = bucket
        self.s3 = s3

    def put(self, reports: Sequence[dict[str, Any]], now: datetime, name: str | None = None) -> str:
        key = archive_key(now, name)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=encode_jsonl_gz(reports),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )
        return key


class MemoryArchive:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, reports: Sequence[dict[str, Any]], now: datetime, name: str | None = None) -> str:
        key = archive_key(now, name)
        self.objects[key] = encode_jsonl_gz(reports)
        return key
