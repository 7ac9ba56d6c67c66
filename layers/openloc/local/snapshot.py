"""Persistence for the in-memory moto server: DynamoDB items and S3 objects saved to the data
directory (periodically and at shutdown) and loaded back at start, so local data survives runs.

Files: `<data>/dynamodb/<table>.json` (raw DynamoDB-JSON items, written atomically),
`<data>/s3/<bucket>/<key>` (object bodies) and `<data>/s3/<bucket>.metadata.json` (each object's
ETag, Content-Type, Cache-Control and Content-Encoding).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_tables(dynamodb: Any, tables: list[str], directory: Path) -> int:
    total = 0
    for table in tables:
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items.extend(page["Items"])
        _atomic_write(directory / "dynamodb" / f"{table}.json", json.dumps(items).encode())
        total += len(items)
    return total


def load_tables(dynamodb: Any, tables: list[str], directory: Path) -> int:
    total = 0
    for table in tables:
        path = directory / "dynamodb" / f"{table}.json"
        if not path.exists():
            continue
        items = json.loads(path.read_text())
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            while requests:
                result = dynamodb.batch_write_item(RequestItems={table: requests})
                requests = result.get("UnprocessedItems", {}).get(table, [])
        total += len(items)
    return total


# Object headers kept next to the bodies, so a restored object is served as it was published.
_HEADERS = (
    ("ContentType", "content_type"),
    ("CacheControl", "cache_control"),
    ("ContentEncoding", "content_encoding"),
)


def _metadata_path(directory: Path, bucket: str) -> Path:
    return directory / "s3" / f"{bucket}.metadata.json"


def save_buckets(s3: Any, buckets: list[str], directory: Path) -> int:
    """Mirror each bucket into `<data>/s3/<bucket>/`: objects whose ETag changed are downloaded,
    files of deleted objects removed; ETags and headers go to `<data>/s3/<bucket>.metadata.json`."""
    written = 0
    for bucket in buckets:
        meta_path = _metadata_path(directory, bucket)
        previous: dict[str, dict[str, str]] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        metadata: dict[str, dict[str, str]] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                key, etag = obj["Key"], obj["ETag"]
                target = directory / "s3" / bucket / key
                if target.exists() and previous.get(key, {}).get("etag") == etag:
                    metadata[key] = previous[key]
                    continue
                result = s3.get_object(Bucket=bucket, Key=key)
                _atomic_write(target, result["Body"].read())
                metadata[key] = {"etag": etag} | {
                    name: result[field] for field, name in _HEADERS if result.get(field)
                }
                written += 1
        root = directory / "s3" / bucket
        if root.exists():
            for path in root.rglob("*"):
                if path.is_file() and path.relative_to(root).as_posix() not in metadata:
                    path.unlink()  # deleted from the bucket (or a leftover .tmp)
        _atomic_write(meta_path, json.dumps(metadata, sort_keys=True).encode())
    return written


def load_buckets(s3: Any, buckets: list[str], directory: Path) -> int:
    loaded = 0
    for bucket in buckets:
        root = directory / "s3" / bucket
        if not root.exists():
            continue
        meta_path = _metadata_path(directory, bucket)
        metadata: dict[str, dict[str, str]] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        for path in root.rglob("*"):
            if path.is_file() and not path.name.endswith(".tmp"):
                key = path.relative_to(root).as_posix()
                headers = {
                    field: metadata[key][name] for field, name in _HEADERS if name in metadata.get(key, {})
                }
                s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), **headers)
                loaded += 1
    return loaded


def save_queue(sqs: Any, queue_url: str, path: Path) -> int:
    """Drain what is left in a queue into a JSON file (bodies only), to be re-sent at next start."""
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            break
        bodies.extend(m["Body"] for m in messages)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    existing = json.loads(path.read_text()) if path.exists() else []
    _atomic_write(path, json.dumps(existing + bodies).encode())
    return len(bodies)


def load_queue(sqs: Any, queue_url: str, path: Path) -> int:
    if not path.exists():
        return 0
    bodies = json.loads(path.read_text())
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])],
        )
    path.unlink()
    return len(bodies)
