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


def create_tables(dynamodb: Any, settings: Settings) -> None:
    existing = set(dynamodb.list_tables()["TableNames"])
    for spec in TABLES:
        name = table_name(settings, spec)
        if name in existing:
            continue
        keys = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
        attributes = [{"AttributeName": spec.hash_key, "AttributeType": "S"}]
        if spec.range_key:
            keys.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
            attributes.append({"AttributeName": spec.range_key, "AttributeType": "S"})
        dynamodb.create_table(
            TableName=name, KeySchema=keys, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
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
