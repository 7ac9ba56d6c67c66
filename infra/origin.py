"""The origin secret of the CDN variant (`openloc:api_behind_cdn`): CloudFront sends it as
`X-Origin-Verify`, the API functions refuse requests without it (`openloc.api.origin`).

A Secrets Manager secret (40 random letters and digits), rotated every
`openloc:origin_secret_rotation_days` (default 30) by the rotation function
(`functions/rotate/handler.py` → `openloc.store.origin_rotation`), which writes the new value into
the distribution's API origins and then makes it current. The API functions read the secret at run
time (cached) and accept its current, pending and previous values, so a rotation never refuses
CloudFront. The rotation function may read and write only this secret, and read and update only
this distribution.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from openloc.store.origin_rotation import SECRET_LENGTH

from infra.compute import ARCHITECTURE, HANDLER, LOG_RETENTION, RUNTIME
from infra.context import int_context
from infra.functions import SPECS

ROTATION_DAYS_CONTEXT = "openloc:origin_secret_rotation_days"
DEFAULT_ROTATION_DAYS = 30


class OriginSecret(Construct):
    """The secret (`secret`); `rotate_with()` adds the rotation once the distribution exists."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="OpenLoc: X-Origin-Verify value CloudFront sends to the API (rotated)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=SECRET_LENGTH
            ),
        )

    def rotate_with(
        self, *, distribution: cloudfront.IDistribution, layer: lambda_.ILayerVersion, code: Path
    ) -> lambda_.Function:
        stack = cdk.Stack.of(self)
        log_group = logs.LogGroup(
            self, "RotateLogs", retention=LOG_RETENTION, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        role = iam.Role(
            self,
            "RotateRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="OpenLoc origin secret rotation",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            "RotateFunction",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(code)),
            layers=[layer],
            memory_size=SPECS["rotate"].memory_mb,
            timeout=cdk.Duration.seconds(SPECS["rotate"].timeout_seconds),
            environment={
                "ORIGIN_DISTRIBUTION_ID": distribution.distribution_id,
                "POWERTOOLS_SERVICE_NAME": "openloc",
            },
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            role=role,
            description="OpenLoc rotate: the origin secret and the distribution's X-Origin-Verify header",
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                resources=[self.secret.secret_arn],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudfront:GetDistributionConfig", "cloudfront:UpdateDistribution"],
                resources=[
                    stack.format_arn(
                        service="cloudfront",
                        region="",
                        resource="distribution",
                        resource_name=distribution.distribution_id,
                    )
                ],
            )
        )
        # GetRandomPassword acts on no resource: IAM allows no narrower Resource for it.
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetRandomPassword"], resources=["*"])
        )
        self.secret.add_rotation_schedule(
            "Rotation",
            rotation_lambda=function,
            automatically_after=cdk.Duration.days(
                int_context(self, ROTATION_DAYS_CONTEXT, DEFAULT_ROTATION_DAYS)
            ),
        )
        cdk.Validations.of(function).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="secretsmanager:GetRandomPassword supports no resource-level permissions.",
            )
        )
        return function
