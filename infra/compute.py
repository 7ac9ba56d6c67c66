"""Compute: the Lambda layers and the functions of infra/functions.py (docs/design.md §1–§2).

Every function runs Python 3.12 on arm64 with the layers `infra/functions.py` gives it, built by
`make package` (infra/packaging.py): the service layer for all, the export layer (numpy, Pillow,
pmtiles) for the export function only, the GeoIP layer for locate only. Each function has
X-Ray tracing on and its own log group (one month), and its own role holding only what its
code does (see the `_grant_*` methods): no managed policies, no wildcard actions; the only
`Resource: *` is X-Ray's, which has no resource-level permissions. locate and submit are published
with SnapStart behind a `live` alias, the version API Gateway invokes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from openloc.store.tables import TABLES, VISIBILITY_TIMEOUT

from infra.context import bool_context, choice_context, str_context
from infra.functions import (
    EXPORT_LAYER,
    FUNCTION_SPECS,
    GEOIP_LAYER,
    SERVICE_LAYER,
    SPECS,
    FunctionSpec,
)
from infra.packaging import layer_asset
from infra.storage import Storage

__all__ = ["FUNCTION_SPECS", "SPECS", "Compute", "FunctionNetwork", "FunctionSpec"]

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = "handler.handler"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
LIVE_ALIAS = "live"
# Powertools: one service and one metrics namespace (the defaults of openloc.observability).
SERVICE_NAME = "openloc"
METRICS_NAMESPACE = "OpenLoc"
DEFAULT_LOG_LEVEL = "INFO"
LOG_LEVEL_CONTEXT = "openloc:log_level"
TRACING_CONTEXT = "openloc:tracing"
COMMIT_CONTEXT = "openloc:commit"
BUILD_TIME_CONTEXT = "openloc:build_time"
# GeoIP database of the locate function: "layer" = the mmdb files `make package` put in build/geoip
# as a second layer (mounted at /opt/geoip), "s3" = an object (`openloc:geoip_s3_uri`) fetched at
# cold start, "none" = no IP fallback.
GEOIP_CONTEXT = "openloc:geoip"
GEOIP_S3_URI_CONTEXT = "openloc:geoip_s3_uri"
GEOIP_MODES = ("layer", "s3", "none")
GEOIP_LAYER_PATH = "/opt/geoip"
EXPORT_TMP_MB = 4096
# AWS advises a queue visibility timeout of at least 6 × the timeout of an SQS-triggered function.
SQS_VISIBILITY_FACTOR = 6

DYNAMODB_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem")
# What aggregating observations writes (the aggregate function, and the bulk function's replay).
AGGREGATION_TABLES = (
    "stations_table",
    "cell_areas_table",
    "datamap_table",
    "stats_table",
    "processed_table",
    "sources_table",
)
DYNAMODB_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


@dataclass(frozen=True)
class FunctionNetwork:
    """Where the functions that use Redis run (infra/cache.py) and the URL they reach it at."""

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_group: ec2.ISecurityGroup
    redis_url: str
    functions: tuple[str, ...] = ("locate", "submit")


if SPECS["aggregate"].timeout_seconds * SQS_VISIBILITY_FACTOR > VISIBILITY_TIMEOUT:
    raise ValueError(
        f"aggregate timeout {SPECS['aggregate'].timeout_seconds} s × {SQS_VISIBILITY_FACTOR} exceeds the "
        f"observations queue visibility timeout ({VISIBILITY_TIMEOUT} s, openloc.store.tables)"
    )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


class Compute(Construct):
    """The layer, the functions (`functions[name]`) and the `live` aliases of the API functions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        assets: Mapping[str, Path],
        aggregate_reserved_concurrency: int | None = None,
        api_reserved_concurrency: int | None = None,
        network: FunctionNetwork | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Sequence[secretsmanager.ISecret] = (),
    ) -> None:
        """`environment`: extra variables for every function (access policy, secrets' ARNs...);
        `secrets`: what the API functions read at run time (IP hash key, origin secret);
        `api_reserved_concurrency`: the cap of locate and of submit (function URLs, no stage
        throttling in front of them)."""
        super().__init__(scope, construct_id)
        self.storage = storage
        self.network = network
        removal = cdk.RemovalPolicy.RETAIN if storage.is_prod else cdk.RemovalPolicy.DESTROY

        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(str(assets[layer_asset(SERVICE_LAYER)])),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="openloc package and its runtime dependencies (boto3/botocore from the runtime)",
        )
        self.export_layer = lambda_.LayerVersion(
            self,
            "ExportLayer",
            code=lambda_.Code.from_asset(str(assets[layer_asset(EXPORT_LAYER)])),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="numpy, Pillow and pmtiles for the export function's tiles job",
        )

        self.geoip_mode = choice_context(self, GEOIP_CONTEXT, GEOIP_MODES, "layer")
        self.geoip_layer: lambda_.LayerVersion | None = None
        if self.geoip_mode == "layer":
            self.geoip_layer = lambda_.LayerVersion(
                self,
                "GeoIpLayer",
                code=lambda_.Code.from_asset(str(assets[layer_asset(GEOIP_LAYER)])),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description="GeoIP database for the locate function (/opt/geoip, compact .olgeo files)",
            )
        self.geoip_s3_uri = str_context(self, GEOIP_S3_URI_CONTEXT)
        if self.geoip_mode == "s3" and not self.geoip_s3_uri.startswith("s3://"):
            raise ValueError(f"{GEOIP_CONTEXT}=s3 needs {GEOIP_S3_URI_CONTEXT}=s3://bucket/key")

        shared_environment = {**storage.environment, **self._base_environment(), **(environment or {})}
        self.functions: dict[str, lambda_.Function] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.aliases: dict[str, lambda_.Alias] = {}
        for spec in (spec for spec in FUNCTION_SPECS if spec.in_compute):
            construct = _pascal(spec.name)
            log_group = logs.LogGroup(
                self, f"{construct}Logs", retention=LOG_RETENTION, removal_policy=removal
            )
            role = iam.Role(
                self,
                f"{construct}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"OpenLoc {spec.name} function",
            )
            # Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): this group only.
            log_group.grant_write(role)
            in_vpc = network is not None and spec.name in network.functions
            available: dict[str, lambda_.ILayerVersion | None] = {
                SERVICE_LAYER: self.layer,
                EXPORT_LAYER: self.export_layer,
                GEOIP_LAYER: self.geoip_layer,
            }
            layers = [layer for name in spec.layers if (layer := available[name]) is not None]
            function = lambda_.Function(
                self,
                f"{construct}Function",
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=HANDLER,
                code=lambda_.Code.from_asset(str(assets[spec.code])),
                layers=layers,
                memory_size=spec.memory_mb,
                ephemeral_storage_size=cdk.Size.mebibytes(EXPORT_TMP_MB if spec.name == "export" else 512),
                timeout=cdk.Duration.seconds(spec.timeout_seconds),
                environment=self._function_environment(spec.name, shared_environment, in_vpc),
                tracing=self._tracing(),
                log_group=log_group,
                # JSON logs; the platform's START/END/REPORT lines (INFO) are dropped: at 1 000
                # req/s they alone would be ~800 GB of CloudWatch Logs a month (docs/deploy.md).
                logging_format=lambda_.LoggingFormat.JSON,
                system_log_level_v2=lambda_.SystemLogLevel.WARN,
                application_log_level_v2=getattr(lambda_.ApplicationLogLevel, self._log_level()),
                role=role,
                description=f"OpenLoc {spec.name}: {spec.description}",
                snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snap_start else None,
                reserved_concurrent_executions=(
                    aggregate_reserved_concurrency
                    if spec.name == "aggregate"
                    else api_reserved_concurrency
                    if spec.name in ("locate", "submit")
                    else None
                ),
                vpc=network.vpc if in_vpc and network else None,
                vpc_subnets=network.subnets if in_vpc and network else None,
                security_groups=[network.security_group] if in_vpc and network else None,
            )
            self.functions[spec.name] = function
            self.log_groups[spec.name] = log_group
            if spec.snap_start:
                # SnapStart applies to published versions only: API Gateway invokes this alias,
                # which follows the version published for the current code and configuration.
                self.aliases[spec.name] = lambda_.Alias(
                    self, f"{construct}Live", alias_name=LIVE_ALIAS, version=function.current_version
                )

        self._grant_locate(self.functions["locate"])
        self._grant_submit(self.functions["submit"])
        self._grant_aggregate(self.functions["aggregate"])
        self._grant_export(self.functions["export"])
        self._grant_bulk(self.functions["bulk"])
        for name in ("locate", "submit"):
            for secret in secrets:
                secret.grant_read(self.functions[name])  # GetSecretValue, DescribeSecret: that secret only

    def _function_environment(self, name: str, shared: Mapping[str, str], in_vpc: bool) -> dict[str, str]:
        env = dict(shared)
        if in_vpc and self.network is not None:
            env["REDIS_URL"] = self.network.redis_url
        if name == "locate":
            if self.geoip_mode == "layer":
                env["GEOIP_PATH"] = GEOIP_LAYER_PATH
            elif self.geoip_mode == "s3":
                env["GEOIP_PATH"] = self.geoip_s3_uri
        return env

    def _tracing(self) -> lambda_.Tracing:
        # Lambda samples 1 request/s + 5 % of the rest, not configurable: ~$660 of X-Ray a month
        # at 1 000 req/s (docs/deploy.md). Off = PassThrough: traces only when a caller asks.
        if bool_context(self, TRACING_CONTEXT, default=True):
            return lambda_.Tracing.ACTIVE
        return lambda_.Tracing.PASS_THROUGH

    def _log_level(self) -> str:
        return choice_context(
            self, LOG_LEVEL_CONTEXT, ("DEBUG", "INFO", "WARN", "ERROR"), DEFAULT_LOG_LEVEL
        ).upper()

    def _base_environment(self) -> dict[str, str]:
        node = self.node
        env = {
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "LOG_LEVEL": self._log_level(),
            # Traces never hold a handler's answer (a located position) or a method's return value.
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        }
        for variable, context in (
            ("OPENLOC_COMMIT", COMMIT_CONTEXT),
            ("OPENLOC_BUILD_TIME", BUILD_TIME_CONTEXT),
        ):
            value = node.try_get_context(context)
            if value:
                env[variable] = str(value)
        return env

    def _table(self, setting: str) -> dynamodb.Table:
        return self.storage.tables[setting]

    def _allow_tables(self, function: lambda_.Function, actions: tuple[str, ...], *settings: str) -> None:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(actions), resources=[self._table(setting).table_arn for setting in settings]
            )
        )

    def _grant_locate(self, function: lambda_.Function) -> None:
        # Point reads only (one BatchGetItem round per request, docs/design.md §3); DescribeTable on
        # api_keys is the DynamoDB probe of /__heartbeat__.
        self._allow_tables(function, DYNAMODB_READ, "stations_table", "cell_areas_table", "api_keys_table")
        self._allow_tables(function, ("dynamodb:DescribeTable",), "api_keys_table")
        # GET /v1/offline/{region} reads the downloads manifest.
        self._allow_assets(function, ("s3:GetObject",), "downloads.json")
        if self.geoip_mode == "s3":
            bucket, _, key = self.geoip_s3_uri.removeprefix("s3://").partition("/")
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[
                        cdk.Arn.format(
                            cdk.ArnComponents(
                                service="s3", region="", account="", resource=bucket, resource_name=key
                            ),
                            cdk.Stack.of(self),
                        )
                    ],
                )
            )

    def _allow_indexes(self, function: lambda_.Function, actions: tuple[str, ...], *settings: str) -> None:
        arns = [
            f"{self._table(spec.setting).table_arn}/index/{index.name}"
            for spec in TABLES
            if spec.setting in settings
            for index in spec.indexes
        ]
        if arns:
            function.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=arns))

    def _allow_assets(self, function: lambda_.Function, actions: tuple[str, ...], key: str = "*") -> None:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(actions), resources=[self.storage.assets_bucket.arn_for_objects(key)]
            )
        )

    def _grant_submit(self, function: lambda_.Function) -> None:
        self.storage.observations_queue.grant_send_messages(function)
        self._allow_tables(function, DYNAMODB_READ, "api_keys_table")
        # POST /v1/transfer merges peer stations and areas synchronously, idempotent per batch.
        self._allow_tables(
            function, DYNAMODB_READ + DYNAMODB_WRITE, "stations_table", "cell_areas_table", "processed_table"
        )
        self._allow_indexes(function, ("dynamodb:Query",), "stations_table")

    def _grant_aggregate(self, function: lambda_.Function) -> None:
        # The SQS event source mapping adds receive/delete on the queue (infra/pipeline.py).
        # sources_table: the daily new-station budgets per submitter source (docs/abuse.md).
        self._allow_tables(function, DYNAMODB_READ + DYNAMODB_WRITE, *AGGREGATION_TABLES)
        # Cells by area: an area is recomputed from all its cells.
        self._allow_indexes(function, ("dynamodb:Query",), *AGGREGATION_TABLES)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[self.storage.archive_bucket.arn_for_objects("*")]
            )
        )

    def _grant_export(self, function: lambda_.Function) -> None:
        # Exports scan cells (by_area), the hourly diff queries by_changed_hour, dumps and packs
        # scan stations and cell areas, tiles and stats read the datamap and stats tables.
        tables = ("stations_table", "cell_areas_table", "datamap_table", "stats_table")
        self._allow_tables(function, (*DYNAMODB_READ, "dynamodb:Query", "dynamodb:Scan"), *tables)
        self._allow_indexes(function, ("dynamodb:Query", "dynamodb:Scan"), *tables)
        # Multipart uploads, the manifest (read, conditional rewrite), superseded files deleted.
        self._allow_assets(
            function, ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.storage.assets_bucket.bucket_arn])
        )
        # The tile job's record of the grid it drew last, per block in the sharded form (private,
        # next to the raw archive; a block left without cells is deleted);
        # ListBucket makes a missing record a 404 (full render) instead of AccessDenied.
        archive = self.storage.archive_bucket
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[archive.arn_for_objects("state/*")],
            )
        )
        # (No s3:prefix condition: a GetObject carries no prefix, so S3 would still answer 403.)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[archive.bucket_arn])
        )
        self._grant_job_steps(function)
        # Shards are sized by the tables' item counts (DescribeTable).
        self._allow_tables(function, ("dynamodb:DescribeTable",), "stations_table", "datamap_table")

    def _grant_job_steps(self, function: lambda_.Function) -> None:
        """What every step of a sharded job does in the private bucket: items, results and
        intermediate files under `jobs/` (read by range, written, deleted at the end)."""
        archive = self.storage.archive_bucket
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[archive.arn_for_objects("jobs/*")],
            )
        )

    def _grant_bulk(self, function: lambda_.Function) -> None:
        # A sharded import writes cells and recomputes their areas (cells by area: the by_area
        # index); a sharded replay aggregates like the aggregate function (its tables) and reads
        # the archive. Import and replay intermediates live under jobs/ of the archive bucket.
        self._allow_tables(function, DYNAMODB_READ + DYNAMODB_WRITE, *AGGREGATION_TABLES)
        self._allow_indexes(function, ("dynamodb:Query",), "stations_table")
        archive = self.storage.archive_bucket
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[archive.arn_for_objects("observations/*")]
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[archive.bucket_arn])
        )
        self._grant_job_steps(function)
