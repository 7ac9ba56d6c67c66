"""CDN: one CloudFront distribution in front of the assets bucket, and optionally the API.

The assets bucket stays private: CloudFront reads it through an origin access control (OAC),
whose bucket-policy statement CDK scopes to this distribution. Paths and their caching:

    /                     website (index.html as default root object), 5 min
    /tiles/*              coverage tiles (PNG pyramid, PMTiles): 1 h, re-rendered hourly
    /exports/*            dated export files: immutable once written, 1 day
    /downloads.json,      manifests the jobs rewrite: 1 min, so a new export shows up quickly
    /stats.json
    /v1/* /v2/* /__*      the API, when `openloc:api_behind_cdn` is true: never cached, all methods

The API behind the distribution: its origin is the API's custom domain (the `execute-api`
endpoint is disabled, infra/api.py), or with `openloc:api=function-url` the locate function URL,
and the submit function URL for the submission paths; every origin request carries the origin secret
(`X-Origin-Verify`, a Secrets Manager secret, infra/origin.py) and `CloudFront-Viewer-Address`,
the viewer's address as CloudFront saw it, which the functions take as the client IP
(docs/security.md); the origin request policy forwards only what the API reads.

Every response carries the security-headers policy (HSTS, nosniff, frame denial, referrer policy,
a CSP that only allows the site's own scripts, styles, images and tiles, plus the map's base
layer tiles when `openloc:basemap_url` configures one, infra/website.py). Viewers may use IPv4 or
IPv6. CloudFront's standard access logs are not enabled: they hold viewer IPs, which the privacy
model never stores (docs/privacy.md); CloudWatch metrics cover operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from openloc.api.routing import SUBMIT_PATHS
from openloc.store.origin_rotation import ORIGIN_HEADER_NAME
from openloc.website import content_security_policy

from infra.context import bool_context, choice_context, str_context
from infra.website import basemap_context

API_BEHIND_CDN_CONTEXT = "openloc:api_behind_cdn"
DOMAIN_CONTEXT = "openloc:cdn_domain_name"
CERTIFICATE_CONTEXT = "openloc:cdn_certificate_arn"
WEB_ACL_CONTEXT = "openloc:cdn_web_acl_arn"
PRICE_CLASS_CONTEXT = "openloc:cdn_price_class"

# CloudFront's names for the edge location sets (North America/Europe; + Asia etc.; all).
PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}

# The API's public paths (Ichnaea's contract plus the heartbeats and the spec).
API_PATH_PATTERNS = ("v1/*", "v2/*", "__*", "openapi.json")
# Viewer headers the API reads (bodies, keyless identity, CORS preflights); CloudFront adds
# CloudFront-Viewer-Address. Host is not forwarded: API Gateway routes by its own domain.
API_ORIGIN_HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "User-Agent",
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
    "CloudFront-Viewer-Address",
)


@dataclass(frozen=True)
class CachedPath:
    pattern: str
    default_ttl: cdk.Duration
    max_ttl: cdk.Duration
    name: str


CACHED_PATHS: tuple[CachedPath, ...] = (
    CachedPath("tiles/*", cdk.Duration.hours(1), cdk.Duration.days(1), "Tiles"),
    CachedPath("exports/*", cdk.Duration.days(1), cdk.Duration.days(7), "Exports"),
    CachedPath("downloads.json", cdk.Duration.minutes(1), cdk.Duration.minutes(5), "Manifest"),
    CachedPath("stats.json", cdk.Duration.minutes(1), cdk.Duration.minutes(15), "Stats"),
)
WEBSITE_TTL = cdk.Duration.minutes(5)


class Cdn(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        assets_bucket: s3.IBucket,
        api_domain: str | None = None,
        origin_secret: secretsmanager.ISecret | None = None,
        submit_domain: str | None = None,
    ) -> None:
        """`api_domain` (the API's custom domain, or the locate function URL's host) and
        `origin_secret` add the API behaviours when the `openloc:api_behind_cdn` context is true;
        `submit_domain` (the submit function URL's host, `openloc:api=function-url`) receives the
        submission paths."""
        super().__init__(scope, construct_id)
        security = cloudfront.ResponseSecurityHeadersBehavior(
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=cdk.Duration.days(365), include_subdomains=True, override=True
            ),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption.DENY, override=True
            ),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                override=True,
            ),
            content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=content_security_policy(basemap_context(self)), override=True
            ),
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="OpenLoc: HSTS, CSP, nosniff, frame denial, referrer policy",
            security_headers_behavior=security,
        )
        # Exports, tiles and manifests are open data: any web page may fetch them.
        self.open_data_headers = cloudfront.ResponseHeadersPolicy(
            self,
            "OpenDataHeaders",
            comment="OpenLoc open data: security headers plus CORS for any origin (GET/HEAD)",
            security_headers_behavior=security,
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_credentials=False,
                access_control_allow_headers=["*"],
                access_control_allow_methods=["GET", "HEAD"],
                access_control_allow_origins=["*"],
                origin_override=True,
            ),
        )
        origin = origins.S3BucketOrigin.with_origin_access_control(assets_bucket)

        behaviors: dict[str, cloudfront.BehaviorOptions] = {}
        for path in CACHED_PATHS:
            policy = cloudfront.CachePolicy(
                self,
                f"{path.name}CachePolicy",
                comment=f"OpenLoc {path.pattern}",
                default_ttl=path.default_ttl,
                min_ttl=cdk.Duration.seconds(0),
                max_ttl=path.max_ttl,
                enable_accept_encoding_gzip=True,
                enable_accept_encoding_brotli=True,
            )
            behaviors[path.pattern] = cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=policy,
                response_headers_policy=self.open_data_headers,
                compress=True,
            )

        self.api_behind_cdn = bool_context(self, API_BEHIND_CDN_CONTEXT, default=False) and bool(api_domain)
        if self.api_behind_cdn and api_domain and origin_secret is not None:
            api_origins = {
                domain: origins.HttpOrigin(
                    domain,
                    protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                    # A dynamic reference, resolved by CloudFormation: the value is not in the template.
                    custom_headers={ORIGIN_HEADER_NAME: origin_secret.secret_value.unsafe_unwrap()},
                )
                for domain in dict.fromkeys(d for d in (submit_domain, api_domain) if d)
            }
            # The exact submission paths first (CloudFront matches behaviours in order) when they
            # have their own origin; every other API path goes to api_domain.
            routes = [(path.lstrip("/"), submit_domain) for path in sorted(SUBMIT_PATHS) if submit_domain]
            routes += [(pattern, api_domain) for pattern in API_PATH_PATTERNS]
            api_requests = cloudfront.OriginRequestPolicy(
                self,
                "ApiOriginRequestPolicy",
                comment="OpenLoc API: the headers it reads, the viewer address, every query string",
                header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*API_ORIGIN_HEADERS),
                query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
                cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
            )
            for pattern, domain in routes:
                behaviors[pattern] = cloudfront.BehaviorOptions(
                    origin=api_origins[domain],
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=api_requests,
                    compress=True,
                )

        website_policy = cloudfront.CachePolicy(
            self,
            "WebsiteCachePolicy",
            comment="OpenLoc website",
            default_ttl=WEBSITE_TTL,
            min_ttl=cdk.Duration.seconds(0),
            max_ttl=cdk.Duration.hours(1),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        domain = str_context(self, DOMAIN_CONTEXT)
        certificate_arn = str_context(self, CERTIFICATE_CONTEXT)
        if bool(domain) != bool(certificate_arn):
            raise ValueError(f"{DOMAIN_CONTEXT} and {CERTIFICATE_CONTEXT} go together (ACM, us-east-1)")
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"OpenLoc {cdk.Stack.of(self).stack_name}: website, tiles, exports",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=website_policy,
                response_headers_policy=self.headers,
                compress=True,
            ),
            additional_behaviors=behaviors,
            enable_ipv6=True,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # Only a custom certificate lets CloudFront enforce a TLS policy (see _acknowledge).
            minimum_protocol_version=(
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate_arn else None
            ),
            price_class=PRICE_CLASSES[
                choice_context(self, PRICE_CLASS_CONTEXT, tuple(PRICE_CLASSES), "PriceClass_100")
            ],
            domain_names=[domain] if domain else None,
            certificate=(
                acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)
                if certificate_arn
                else None
            ),
            web_acl_id=str_context(self, WEB_ACL_CONTEXT) or None,
        )
        self._acknowledge(
            custom_certificate=bool(certificate_arn), waf=bool(str_context(self, WEB_ACL_CONTEXT))
        )
        self.url = f"https://{domain or self.distribution.distribution_domain_name}"
        cdk.CfnOutput(self, "Url", value=self.url, description="Website, tiles and exports (CloudFront)")

    def _acknowledge(self, *, custom_certificate: bool, waf: bool) -> None:
        """cdk-nag findings on the distribution that are decisions, with the reason."""
        reasons = {
            "AwsSolutions::AwsSolutions-CFR1": (
                "Open data and a worldwide location API: no country is to be excluded."
            ),
            "AwsSolutions::AwsSolutions-CFR3": (
                "CloudFront standard logs record every viewer IP, which the privacy model never stores "
                "(docs/privacy.md); CloudWatch distribution metrics and API access logs without IPs cover "
                "operations."
            ),
        }
        if not waf:
            reasons["AwsSolutions::AwsSolutions-CFR2"] = (
                "WAF costs a fixed monthly fee per web ACL; abuse is limited per key and IP in the API. "
                f"Attach a web ACL with -c {WEB_ACL_CONTEXT}=<arn> where it pays off."
            )
        if not custom_certificate:
            reasons["AwsSolutions::AwsSolutions-CFR4"] = (
                "The default *.cloudfront.net certificate has a fixed TLSv1 policy; with "
                f"-c {DOMAIN_CONTEXT}=... -c {CERTIFICATE_CONTEXT}=... the distribution enforces TLS 1.2."
            )
        for finding, reason in reasons.items():
            cdk.Validations.of(self).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))
