"""Website: the static site `make package` built into build/site, copied into the assets bucket
on every deploy (CloudFront serves it at /).

Two BucketDeployments because the site has two cache lifetimes (`openloc.website`): pages,
manifest-reading scripts and openapi.json for 5 minutes, the vendored libraries and the basemap
for a day. Neither prunes: exports, tiles and manifests live in the same bucket. After the copy
CloudFront's cache of the pages is invalidated. A third writes `config.json` from the CDK context:
the coverage map's raster base layer (`openloc:basemap_url`, `openloc:basemap_attribution`,
`openloc:basemap_attribution_url`, `openloc:basemap_max_zoom`; none by default: the country
outlines), whose tile host the CSP of infra/cdn.py then allows (`basemap_context`).

BucketDeployment runs a CDK-provided Lambda with the AWS CLI (no Docker involved); its cdk-nag
findings are acknowledged below with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct
from openloc.website import CONFIG_KEY, LIBRARY_CACHE, PAGE_CACHE, Basemap, BasemapError, site_config

from infra.context import int_context, str_context

LONG_LIVED = ("vendor/*", "basemap/*")
BASEMAP_URL_CONTEXT = "openloc:basemap_url"
BASEMAP_ATTRIBUTION_CONTEXT = "openloc:basemap_attribution"
BASEMAP_ATTRIBUTION_URL_CONTEXT = "openloc:basemap_attribution_url"
BASEMAP_MAX_ZOOM_CONTEXT = "openloc:basemap_max_zoom"


def basemap_context(scope: Construct) -> Basemap | None:
    """The map's raster base layer the context configures (None without `openloc:basemap_url`)."""
    url = str_context(scope, BASEMAP_URL_CONTEXT)
    if not url:
        return None
    try:
        return Basemap(
            url,
            str_context(scope, BASEMAP_ATTRIBUTION_CONTEXT),
            str_context(scope, BASEMAP_ATTRIBUTION_URL_CONTEXT),
            int_context(scope, BASEMAP_MAX_ZOOM_CONTEXT, 19),
        )
    except BasemapError as error:
        raise ValueError(f"context {BASEMAP_URL_CONTEXT} & co.: {error}") from None


class Website(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        site: Path,
        assets_bucket: s3.IBucket,
        distribution: cloudfront.IDistribution,
    ) -> None:
        super().__init__(scope, construct_id)
        source = s3deploy.Source.asset(str(site))
        self.pages = s3deploy.BucketDeployment(
            self,
            "Pages",
            sources=[source],
            destination_bucket=assets_bucket,
            exclude=[*LONG_LIVED, CONFIG_KEY],
            prune=False,
            cache_control=[s3deploy.CacheControl.from_string(PAGE_CACHE)],
            distribution=distribution,
            distribution_paths=["/", "/*.html", "/*.js", "/*.css", "/openapi.json"],
            memory_limit=512,
        )
        self.libraries = s3deploy.BucketDeployment(
            self,
            "Libraries",
            sources=[source],
            destination_bucket=assets_bucket,
            exclude=["*"],
            include=list(LONG_LIVED),
            prune=False,
            cache_control=[s3deploy.CacheControl.from_string(LIBRARY_CACHE)],
            memory_limit=512,
        )
        self.config = s3deploy.BucketDeployment(
            self,
            "Config",
            sources=[s3deploy.Source.data(CONFIG_KEY, site_config(basemap_context(self)).decode())],
            destination_bucket=assets_bucket,
            prune=False,
            cache_control=[s3deploy.CacheControl.from_string(PAGE_CACHE)],
            content_type="application/json",
            distribution=distribution,
            distribution_paths=[f"/{CONFIG_KEY}"],
            memory_limit=512,
        )
        self._acknowledge_handler_findings(assets_bucket)

    def _acknowledge_handler_findings(self, assets_bucket: s3.IBucket) -> None:
        """cdk-nag findings on CDK's BucketDeployment handler (a stack-level singleton)."""
        stack = cdk.Stack.of(self)
        bucket = stack.resolve(stack.get_logical_id(cast(cdk.CfnElement, assets_bucket.node.default_child)))
        wildcard_actions = ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*")
        copy_reason = (
            "CDK's BucketDeployment handler copies the site from the CDK asset bucket into the assets bucket "
            "during deployments only; the actions and resources are CDK's own grant for that copy."
        )
        reasons = {
            **{
                f"AwsSolutions::AwsSolutions-IAM5[Action::{action}]": copy_reason
                for action in wildcard_actions
            },
            "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-"
            "<AWS::AccountId>-<AWS::Region>/*]": copy_reason,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]": copy_reason,
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]": (
                "The BucketDeployment handler (CDK's singleton) logs with the basic execution role; it runs "
                "only during deployments."
            ),
            "AwsSolutions::AwsSolutions-L1": (
                "The BucketDeployment handler's runtime is chosen by aws-cdk-lib and follows its releases."
            ),
        }
        handlers = [
            child for child in stack.node.children if child.node.id.startswith("Custom::CDKBucketDeployment")
        ]
        for scope in (self, *handlers):
            for finding, reason in reasons.items():
                cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))
