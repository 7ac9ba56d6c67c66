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
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


def archive_key(now: datetime, name: str | None = None) -> str:
    return f"observations/{now:%Y/%m/%d/%H}/{name or uuid.uuid4().hex}.jsonl.gz"


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
