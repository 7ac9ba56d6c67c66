"""Create the tables, queues and buckets of `openloc.store.tables` on an AWS API endpoint."""

from __future__ import annotations

import json
from typing import Any

from openloc.settings import Settings
from openloc.store.tables import (
    MAX_RECEIVE_COUNT,
    OBSERVATIONS_DLQ,
    OBSERVATIONS_QUEUE,
    TABLES,
    VISIBILITY_TIMEOUT,
    bucket_names,
    table_name,
)


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return keys


def _add_missing_indexes(dynamodb: Any, name: str, spec: Any) -> None:
    """A table restored from an older data directory gets the indexes added since (one at a time,
    as DynamoDB requires). Rows written before carry no index attributes until rewritten."""
    present = {
        i["IndexName"]
        for i in dynamodb.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
    }
    for index in spec.indexes:
        if index.name in present:
            continue
        names = sorted(n for n in {index.hash_key, index.range_key} if n)
        dynamodb.update_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in names],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": index.name,
                        "KeySchema": _key_schema(index.hash_key, index.range_key),
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        )


def create_tables(dynamodb: Any, settings: Settings) -> None:
    existing = set(dynamodb.list_tables()["TableNames"])
    for spec in TABLES:
        name = table_name(settings, spec)
        if name in existing:
            if spec.indexes:
                _add_missing_indexes(dynamodb, name, spec)
            continue
        keys = _key_schema(spec.hash_key, spec.range_key)
        names = (
            {spec.hash_key, spec.range_key}
            | {i.hash_key for i in spec.indexes}
            | {i.range_key for i in spec.indexes}
        )
        attributes = [{"AttributeName": n, "AttributeType": "S"} for n in sorted(n for n in names if n)]
        extra: dict[str, Any] = {}
        if spec.indexes:
            extra["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(index.hash_key, index.range_key),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in spec.indexes
            ]
        dynamodb.create_table(
            TableName=name,
            KeySchema=keys,
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        if spec.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
            )


def create_queues(sqs: Any, visibility_timeout: int = VISIBILITY_TIMEOUT) -> tuple[str, str]:
    """The observations queue (with its dead-letter redrive) and the DLQ; returns their URLs."""
    dlq_url = sqs.create_queue(QueueName=OBSERVATIONS_DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=OBSERVATIONS_QUEUE,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
            ),
        },
    )["QueueUrl"]
    return queue_url, dlq_url


def create_buckets(s3: Any, settings: Settings) -> None:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in bucket_names(settings):
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
