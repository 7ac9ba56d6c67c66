"""Persistence for the in-memory moto server: DynamoDB items and S3 objects saved to the data
directory (periodically and at shutdown) and loaded back at start, so local data survives runs.

Files: `<data>/dynamodb/<table>.json` (raw DynamoDB-JSON items, written atomically) and
`<data>/s3/<bucket>/<key>` (object bodies).
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


def save_buckets(s3: Any, buckets: list[str], directory: Path) -> int:
    written = 0
    for bucket in buckets:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                target = directory / "s3" / bucket / obj["Key"]
                if target.exists() and target.stat().st_size == obj["Size"]:
                    continue
                _atomic_write(target, s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
                written += 1
    return written


def load_buckets(s3: Any, buckets: list[str], directory: Path) -> int:
    loaded = 0
    for bucket in buckets:
        root = directory / "s3" / bucket
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_file() and not path.name.endswith(".tmp"):
                s3.put_object(Bucket=bucket, Key=path.relative_to(root).as_posix(), Body=path.read_bytes())
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
