"""The OpenLoc stack: composes the per-concern constructs (storage, cache, compute, api, pipeline,
cdn, monitoring, jobs, schedule).

Every tunable is a context value (cdk.json, or `-c key=value`); docs/deploy.md lists them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.api import CONCURRENCY_CONTEXT, DEFAULT_CONCURRENCY, Api, api_mode
from infra.cache import REDIS_CONTEXT, Cache
from infra.cdn import API_BEHIND_CDN_CONTEXT, Cdn
from infra.compute import Compute, FunctionNetwork
from infra.context import bool_context, choice_context, int_context
from infra.jobs import Jobs
from infra.monitoring import Monitoring
from infra.origin import OriginSecret
from infra.packaging import asset_dirs, is_placeholder
from infra.pipeline import Pipeline, PipelineSettings
from infra.schedule import SHARDED_CONTEXT, Schedule
from infra.storage import ARCHIVE_RETENTION_CONTEXT, DEFAULT_ARCHIVE_RETENTION_DAYS, Storage
from infra.website import Website

STAGE_CONTEXT = "openloc:stage"
DEFAULT_STAGE = "dev"
STAGES = ("dev", "prod")
# The access policy of the deployed API (OPENLOC_KEY_POLICY): keys required, as Ichnaea did, or
# optional (keyless clients identified by User-Agent, docs/api.md).
KEY_POLICY_CONTEXT = "openloc:key_policy"
KEY_POLICIES = ("required", "optional")
DEFAULT_KEY_POLICY = "required"

# cdk-nag findings that are decisions, not defects (the rest are fixed in the constructs).
NAG_ACKNOWLEDGMENTS: dict[str, str] = {
    "AwsSolutions::AwsSolutions-L1": (
        "Python 3.12 is the chosen runtime: the layer is built for cp312 arm64 and SnapStart for Python "
        "is available from 3.12; moving to a newer runtime is a deliberate upgrade of the whole build."
    ),
    "AwsSolutions::AwsSolutions-APIG4": (
        "The Ichnaea contract authenticates with ?key= API keys, checked by the locate/submit functions "
        "against the api_keys table (submissions may be anonymous); an IAM or JWT authorizer would "
        "break every existing client."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::*]": (
        "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) and the CloudWatch Logs delivery "
        "actions of the state machines' logging support no resource-level permissions; AWS requires "
        "Resource *."
    ),
    "Annotation::@aws-cdk/aws-lambda:snapStartRequirePublish": (
        "locate and submit publish a version (current_version) that their `live` alias points to; "
        "API Gateway invokes only the alias."
    ),
}


class OpenLocStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        assets: dict[str, Path] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.stage = stage
        cdk.Tags.of(self).add("project", "openloc")
        cdk.Tags.of(self).add("stage", stage)

        if stage not in STAGES:
            raise ValueError(f"{STAGE_CONTEXT} must be one of {', '.join(STAGES)}, got {stage!r}")
        self.assets = assets if assets is not None else asset_dirs()
        self.storage = Storage(self, "Storage", stage=stage)
        self.behind_cdn = bool_context(self, API_BEHIND_CDN_CONTEXT, default=False)
        # Behind CloudFront: the value CloudFront proves itself with (docs/security.md).
        self.origin_secret = OriginSecret(self, "OriginSecret") if self.behind_cdn else None
        self.cache = Cache(self, "Cache") if bool_context(self, REDIS_CONTEXT, default=False) else None
        pipeline_settings = PipelineSettings.from_context(self)
        mode = api_mode(self)
        # Function URLs have no stage throttling: reserved concurrency caps locate and submit.
        api_concurrency = (
            int_context(self, CONCURRENCY_CONTEXT, DEFAULT_CONCURRENCY) if mode == "function-url" else None
        )
        self.compute = Compute(
            self,
            "Compute",
            storage=self.storage,
            assets=self.assets,
            aggregate_reserved_concurrency=pipeline_settings.concurrency,
            api_reserved_concurrency=api_concurrency,
            network=(
                FunctionNetwork(
                    vpc=self.cache.vpc,
                    subnets=self.cache.subnets,
                    security_group=self.cache.security_group,
                    redis_url=self.cache.redis_url,
                )
                if self.cache
                else None
            ),
            environment=self._service_environment(),
            secrets=[self.ip_hash_secret, *([self.origin_secret.secret] if self.origin_secret else [])],
        )
        self.api = Api(
            self,
            "Api",
            locate=self.compute.aliases["locate"],
            submit=self.compute.aliases["submit"],
            mode=mode,
            metric_functions=self.compute.functions,
        )
        self.pipeline = Pipeline(
            self,
            "Pipeline",
            queue=self.storage.observations_queue,
            aggregate=self.compute.functions["aggregate"],
            settings=pipeline_settings,
        )
        self.cdn = Cdn(
            self,
            "Cdn",
            assets_bucket=self.storage.assets_bucket,
            api_domain=self.api.origin_domains.get("locate"),
            origin_secret=self.origin_secret.secret if self.origin_secret else None,
            submit_domain=self.api.origin_domains.get("submit"),
        )
        if self.origin_secret is not None:
            self.origin_secret.rotate_with(
                distribution=self.cdn.distribution, layer=self.compute.layer, code=self.assets["rotate"]
            )
        # Without `make site` there is nothing to copy: the stack then deploys without the pages.
        self.website = (
            None
            if is_placeholder(self.assets["site"])
            else Website(
                self,
                "Website",
                site=self.assets["site"],
                assets_bucket=self.storage.assets_bucket,
                distribution=self.cdn.distribution,
            )
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            api=self.api,
            functions=self.compute.functions,
            queue=self.storage.observations_queue,
            dead_letter_queue=self.storage.observations_dlq,
        )
        self.jobs = Jobs(
            self,
            "Jobs",
            storage=self.storage,
            functions=self.compute.functions,
            alarm_topic=self.monitoring.topic,
        )
        sharded = bool_context(self, SHARDED_CONTEXT, default=True)
        self.schedule = Schedule(
            self,
            "Schedule",
            export=self.compute.functions["export"],
            state_machines=self.jobs.state_machines if sharded else None,
        )

        acknowledgments = {**NAG_ACKNOWLEDGMENTS, **self._object_write_acknowledgments()}
        for finding, reason in acknowledgments.items():
            cdk.Validations.of(self).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))

    def _service_environment(self) -> dict[str, str]:
        key_policy = choice_context(self, KEY_POLICY_CONTEXT, KEY_POLICIES, DEFAULT_KEY_POLICY)
        if key_policy == "optional" and self.cache is None:
            cdk.Annotations.of(self).add_warning_v2(
                "openloc:keyless-without-redis",
                "openloc:key_policy=optional without openloc:redis=true: keyless traffic is unlimited",
            )
        # The key of the hash standing for client IPs and API keys in Redis and in submitted reports:
        # a per-deployment secret, generated once by Secrets Manager and read by the API functions
        # at run time (IP_HASH_KEY_SECRET_ARN): its value is never in the template or environment.
        self.ip_hash_secret = secretsmanager.Secret(
            self,
            "IpHashKey",
            description="OpenLoc: key of the BLAKE2b hash for client IPs and API keys in Redis counters",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=40
            ),
        )
        cdk.Validations.of(self.ip_hash_secret).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-SMG4",
                reason=(
                    "Rotating the hash key renames the rate-limit counters (they restart from 0) and makes "
                    "new source tags unrelated to old ones (docs/abuse.md): rotate by hand when needed."
                ),
            )
        )
        env = {
            "OPENLOC_KEY_POLICY": key_policy,
            "IP_HASH_KEY_SECRET_ARN": self.ip_hash_secret.secret_arn,
            # The same retention for the S3 lifecycle rule and for `openloc replay`.
            "ARCHIVE_RETENTION_DAYS": str(
                int_context(self, ARCHIVE_RETENTION_CONTEXT, DEFAULT_ARCHIVE_RETENTION_DAYS)
            ),
        }
        if self.origin_secret is not None:
            # Only requests carrying this secret are served, and their client is CloudFront's
            # CloudFront-Viewer-Address (X-Forwarded-For is never trusted: TRUSTED_PROXY_HOPS unset).
            env["ORIGIN_SECRET_ARN"] = self.origin_secret.secret.secret_arn
        return env

    def _object_write_acknowledgments(self) -> dict[str, str]:
        """IAM5 for `<bucket>/*` object writes: the finding names the bucket's logical id."""

        def finding(bucket: s3.Bucket, keys: str = "*") -> str:
            logical_id = self.resolve(self.get_logical_id(cast(cdk.CfnElement, bucket.node.default_child)))
            return f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{keys}]"

        return {
            finding(self.storage.archive_bucket): (
                "The aggregator writes raw batches under date-partitioned keys not known in advance; "
                "s3:PutObject only, on the archive bucket only."
            ),
            finding(self.storage.assets_bucket): (
                "The export job writes, reads back and deletes dated exports, dumps, packs, tiles and the "
                "manifest, whose keys are not known in advance; explicit object actions, assets bucket only. "
                "The website deployment copies the site into the same bucket."
            ),
            finding(self.storage.archive_bucket, "state/*"): (
                "The tile job keeps its record of the last rendered grid (per z6 block when sharded) under "
                "state/ of the private archive bucket: GetObject/PutObject/DeleteObject on that prefix only."
            ),
            finding(self.storage.archive_bucket, "jobs/*"): (
                "The steps of a sharded job hand items, results and intermediate files on under "
                "jobs/<task>/<run>/ of the private archive bucket; run ids are generated per execution."
            ),
            finding(self.storage.archive_bucket, "observations/*"): (
                "A sharded replay reads the raw archive, whose keys are dated and named after messages; "
                "GetObject only, on that prefix only."
            ),
        }
