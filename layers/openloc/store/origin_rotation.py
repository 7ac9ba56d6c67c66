"""Rotation of the origin secret (the `X-Origin-Verify` value CloudFront sends to the API).

Secrets Manager calls the rotation function (`functions/rotate/handler.py`) four times per
rotation, one step each, with the new version's `ClientRequestToken`:

1. `createSecret`: a new random value (40 letters and digits) as the AWSPENDING version;
2. `setSecret`: the distribution's API origins send the pending value from now on
   (GetDistributionConfig → UpdateDistribution with its ETag);
3. `testSecret`: the distribution's configuration holds the pending value;
4. `finishSecret`: the pending version becomes AWSCURRENT (the old one AWSPREVIOUS).

The API accepts AWSCURRENT, AWSPENDING and AWSPREVIOUS (`openloc.api.origin`), so requests from
edges that still send the old value while the distribution deploys are served throughout; after
the next rotation the old value is gone. Every step is idempotent (Secrets Manager retries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openloc.observability import logger
from openloc.store.secrets import CURRENT, PENDING

ORIGIN_HEADER_NAME = "X-Origin-Verify"
SECRET_LENGTH = 40


class RotationError(RuntimeError):
    """A rotation step that cannot go on (a wrong token, a distribution without the header)."""


@dataclass
class OriginSecretRotation:
    secrets: Any  # boto3 Secrets Manager client
    cloudfront: Any  # boto3 CloudFront client
    distribution_id: str
    header: str = ORIGIN_HEADER_NAME

    def run(self, event: dict[str, Any]) -> None:
        """One step of a rotation, as Secrets Manager's event names it."""
        secret_id, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
        stages = self.secrets.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {}).get(token)
        if stages is not None and CURRENT in stages:
            return  # already rotated (a retried step)
        if step != "createSecret" and (stages is None or PENDING not in stages):
            raise RotationError(f"version {token} is not the secret's AWSPENDING version")
        logger.info("origin secret rotation", extra={"step": step})
        steps = {
            "createSecret": self.create,
            "setSecret": self.set,
            "testSecret": self.test,
            "finishSecret": self.finish,
        }
        if step not in steps:
            raise RotationError(f"unknown rotation step {step!r}")
        steps[step](secret_id, token)

    def _pending(self, secret_id: str, token: str) -> str:
        value: str = self.secrets.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)[
            "SecretString"
        ]
        return value

    def create(self, secret_id: str, token: str) -> None:
        try:
            self._pending(secret_id, token)
            return  # created by an earlier attempt
        except self.secrets.exceptions.ResourceNotFoundException:
            pass
        value = self.secrets.get_random_password(ExcludePunctuation=True, PasswordLength=SECRET_LENGTH)
        self.secrets.put_secret_value(
            SecretId=secret_id,
            ClientRequestToken=token,
            SecretString=value["RandomPassword"],
            VersionStages=[PENDING],
        )

    def _api_headers(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        """The origin-secret headers of the distribution's origins (those that send one)."""
        headers = [
            header
            for origin in config["Origins"].get("Items", [])
            for header in (origin.get("CustomHeaders") or {}).get("Items", [])
            if header["HeaderName"].lower() == self.header.lower()
        ]
        if not headers:
            raise RotationError(f"distribution {self.distribution_id} has no origin sending {self.header}")
        return headers

    def set(self, secret_id: str, token: str) -> None:
        value = self._pending(secret_id, token)
        answer = self.cloudfront.get_distribution_config(Id=self.distribution_id)
        config = answer["DistributionConfig"]
        headers = self._api_headers(config)
        if all(header["HeaderValue"] == value for header in headers):
            return
        for header in headers:
            header["HeaderValue"] = value
        self.cloudfront.update_distribution(
            Id=self.distribution_id, IfMatch=answer["ETag"], DistributionConfig=config
        )

    def test(self, secret_id: str, token: str) -> None:
        value = self._pending(secret_id, token)
        config = self.cloudfront.get_distribution_config(Id=self.distribution_id)["DistributionConfig"]
        if any(header["HeaderValue"] != value for header in self._api_headers(config)):
            raise RotationError("the distribution does not send the pending value")

    def finish(self, secret_id: str, token: str) -> None:
        versions = self.secrets.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
        current = next((version for version, stages in versions.items() if CURRENT in stages), None)
        if current == token:
            return
        self.secrets.update_secret_version_stage(
            SecretId=secret_id, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current
        )
