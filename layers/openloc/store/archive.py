"""Raw observation archive in S3: `observations/YYYY/MM/DD/HH/<uuid>.jsonl.gz`, replayable.

Each line is `aggregate.report.archive_record(report)`: position, networks and times, never the
contributor's IP, user agent, API key or nickname. Objects expire after
`ARCHIVE_RETENTION_DAYS` (S3 lifecycle rule; `openloc replay` ignores older objects too).
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from openloc.settings import Settings


ARCHIVE_SUFFIX = ".jsonl.gz"


def archive_key(now: datetime, name: str | None = None) -> str:
    return f"observations/{now:%Y/%m/%d/%H}/{name or uuid.uuid4().hex}{ARCHIVE_SUFFIX}"


_KEY_TIME = re.compile(r"(?:^|/)observations/(\d{4})/(\d{2})/(\d{2})/(\d{2})/")


def archive_time(key: str) -> datetime | None:
    """The hour an archive object was written, from its key (None: not an archive key)."""
    match = _KEY_TIME.search(key)
    if match is None:
        return None
    year, month, day, hour = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


def expired(key: str, now: datetime, retention_days: int) -> bool:
    """Whether the object is past the retention (its whole hour older than `retention_days`).

    Keys without a readable date count as expired: replay must never resurrect data it cannot date.
    """
    written = archive_time(key)
    return written is None or written + timedelta(hours=1) <= now - timedelta(days=retention_days)


def encode_jsonl_gz(reports: Sequence[dict[str, Any]]) -> bytes:
    lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in reports)
    return gzip.compress(lines.encode(), compresslevel=6)


def decode_jsonl_gz(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(data).decode().splitlines() if line]


def message_id_of(key: str) -> str:
    """The SQS message id an archive object is named after (its file name without suffix)."""
    return key.rsplit("/", 1)[-1].removesuffix(ARCHIVE_SUFFIX)


class Archive(Protocol):
    def put(self, reports: Sequence[dict[str, Any]], now: datetime, name: str | None = None) -> str: ...

    def keys(self, prefix: str) -> Iterator[str]:
        """Archive objects (`….jsonl.gz`) whose key starts with `prefix`."""
        ...

    def read(self, key: str) -> list[dict[str, Any]]:
        """The archived reports of one object."""
        ...


class S3Archive:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings, bucket: str | None = None) -> S3Archive:
        """The deployment's archive bucket (or another bucket holding an archive, for replay)."""
        from openloc.store.aws import client

        return cls(client("s3"), bucket or settings.archive_bucket)

    def keys(self, prefix: str) -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                if obj["Key"].endswith(ARCHIVE_SUFFIX):
                    yield str(obj["Key"])

    def read(self, key: str) -> list[dict[str, Any]]:
        return decode_jsonl_gz(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

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

    def keys(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix) and k.endswith(ARCHIVE_SUFFIX))

    def read(self, key: str) -> list[dict[str, Any]]:
        return decode_jsonl_gz(self.objects[key])

    def put(self, reports: Sequence[dict[str, Any]], now: datetime, name: str | None = None) -> str:
        key = archive_key(now, name)
        self.objects[key] = encode_jsonl_gz(reports)
        return key
