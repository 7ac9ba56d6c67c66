"""The origin secret's rotation, step by step, against Secrets Manager and CloudFront (moto)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from openloc.store.origin_rotation import ORIGIN_HEADER_NAME, OriginSecretRotation, RotationError
from openloc.store.secrets import CURRENT, PENDING, PREVIOUS, SecretReader

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield (
            boto3.client("secretsmanager", region_name="us-east-1"),
            boto3.client("cloudfront", region_name="us-east-1"),
        )


def _distribution(cloudfront: Any, value: str) -> str:
    custom = {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}
    header = {"Quantity": 1, "Items": [{"HeaderName": ORIGIN_HEADER_NAME, "HeaderValue": value}]}
    origins = [
        {"Id": "api", "DomainName": "api.example.org", "CustomHeaders": header, "CustomOriginConfig": custom},
        {
            "Id": "assets",
            "DomainName": "assets.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        },
    ]
    behavior = {
        "TargetOriginId": "assets",
        "ViewerProtocolPolicy": "redirect-to-https",
        "MinTTL": 0,
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
    }
    config = {
        "CallerReference": "openloc-test",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 2, "Items": origins},
        "DefaultCacheBehavior": behavior,
    }
    distribution_id: str = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    return distribution_id


def _sent(cloudfront: Any, distribution_id: str) -> list[str]:
    config = cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]
    return [
        header["HeaderValue"]
        for origin in config["Origins"]["Items"]
        for header in (origin.get("CustomHeaders") or {}).get("Items", [])
    ]


def test_a_rotation_moves_cloudfront_and_the_secret_to_a_new_value(aws: tuple[Any, Any]) -> None:
    secrets, cloudfront = aws
    arn = secrets.create_secret(Name="origin", SecretString="initial-value")["ARN"]
    distribution_id = _distribution(cloudfront, "initial-value")
    rotation = OriginSecretRotation(secrets, cloudfront, distribution_id)
    reader = SecretReader(lambda: secrets, arn, max_age=300)
    token = str(uuid.uuid4())
    accepted_during: list[frozenset[str]] = []
    for step in STEPS:
        rotation.run({"SecretId": arn, "ClientRequestToken": token, "Step": step})
        rotation.run({"SecretId": arn, "ClientRequestToken": token, "Step": step})  # retried: idempotent
        accepted = reader.values((CURRENT, PENDING, PREVIOUS), fresh=True)
        # whatever CloudFront sends at any point of the rotation is accepted by the API
        assert set(_sent(cloudfront, distribution_id)) <= accepted
        accepted_during.append(accepted)
    new = reader.value(fresh=True)
    assert new is not None and new != "initial-value" and len(new) == 40 and new.isalnum()
    assert _sent(cloudfront, distribution_id) == [new]  # only the API origin sends it
    assert reader.value(PREVIOUS, fresh=True) == "initial-value"  # edges not yet updated: still served
    assert "initial-value" in accepted_during[1] and new in accepted_during[1]


def test_steps_refuse_a_token_that_is_not_pending(aws: tuple[Any, Any]) -> None:
    secrets, cloudfront = aws
    arn = secrets.create_secret(Name="origin", SecretString="v")["ARN"]
    rotation = OriginSecretRotation(secrets, cloudfront, _distribution(cloudfront, "v"))
    with pytest.raises(RotationError):
        rotation.run({"SecretId": arn, "ClientRequestToken": str(uuid.uuid4()), "Step": "setSecret"})


def test_a_distribution_without_the_header_is_an_error(aws: tuple[Any, Any]) -> None:
    secrets, cloudfront = aws
    arn = secrets.create_secret(Name="origin", SecretString="v")["ARN"]
    rotation = OriginSecretRotation(secrets, cloudfront, _distribution(cloudfront, "v"), header="X-Other")
    token = str(uuid.uuid4())
    rotation.run({"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"})
    with pytest.raises(RotationError):
        rotation.run({"SecretId": arn, "ClientRequestToken": token, "Step": "setSecret"})
