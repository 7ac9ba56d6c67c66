"""API: an API Gateway HTTP API in front of the locate and submit functions (docs/design.md §1, §5).

Routes follow `openloc.api.routing`: every submission path goes to submit, whatever the method (so
`OPTIONS` and a wrong method get the submit app's own answer, as locally), everything else
(`$default`, including unknown paths that answer 404) to locate. Both integrations invoke the
`live` alias (the SnapStart version). The default stage throttles (context `openloc:api_rate_limit`
requests/s and `openloc:api_burst_limit`) and writes JSON access logs without client IPs, user
agents or query strings: the privacy model never stores the first two (docs/privacy.md), so
`$context.identity.sourceIp` and `$context.identity.userAgent` are deliberately absent, and the
query string carries `?key=`.

Behind CloudFront (`openloc:api_behind_cdn`), the API is reachable only through its custom
domain, which CloudFront uses as its origin: the default `execute-api` endpoint is disabled, and
requests that reach the domain without CloudFront's origin secret are refused by the functions
(`openloc.api.origin`, docs/security.md).
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from openloc.api.routing import SUBMIT_PATHS

from infra.cdn import API_BEHIND_CDN_CONTEXT
from infra.context import bool_context, int_context, str_context

DOMAIN_CONTEXT = "openloc:api_domain_name"
CERTIFICATE_CONTEXT = "openloc:api_certificate_arn"  # ACM, in the stack's region
RATE_LIMIT_CONTEXT = "openloc:api_rate_limit"
BURST_LIMIT_CONTEXT = "openloc:api_burst_limit"
DEFAULT_RATE_LIMIT = 200  # steady requests per second over the whole stage
DEFAULT_BURST_LIMIT = 400
ACCESS_LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# $context variables of an HTTP API access log line. No sourceIp, no userAgent (docs/privacy.md),
# no query string (API keys).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "error": "$context.error.message",
}


class Api(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, locate: lambda_.IFunction, submit: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        domain = str_context(self, DOMAIN_CONTEXT)
        certificate_arn = str_context(self, CERTIFICATE_CONTEXT)
        if bool(domain) != bool(certificate_arn):
            raise ValueError(f"{DOMAIN_CONTEXT} and {CERTIFICATE_CONTEXT} go together")
        self.behind_cdn = bool_context(self, API_BEHIND_CDN_CONTEXT, default=False)
        if self.behind_cdn and not domain:
            raise ValueError(
                f"{API_BEHIND_CDN_CONTEXT}=true needs {DOMAIN_CONTEXT} and {CERTIFICATE_CONTEXT}: CloudFront "
                "reaches the API through its custom domain, the execute-api endpoint is disabled"
            )
        self.domain_name = (
            apigwv2.DomainName(
                self,
                "DomainName",
                domain_name=domain,
                certificate=acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn),
                ip_address_type=apigwv2.IpAddressType.DUAL_STACK,
                security_policy=apigwv2.SecurityPolicy.TLS_1_2,
            )
            if domain
            else None
        )
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=f"{stack.stack_name}-api",
            description="OpenLoc Ichnaea-compatible geolocation API",
            default_integration=integrations.HttpLambdaIntegration("Locate", locate),
            create_default_stage=False,
            # IPv4 and IPv6 clients (the GeoIP fallback and per-IP limits handle both).
            ip_address_type=apigwv2.IpAddressType.DUAL_STACK,
            # Behind CloudFront, nobody may call the API around it.
            disable_execute_api_endpoint=self.behind_cdn,
        )
        submit_integration = integrations.HttpLambdaIntegration("Submit", submit)
        for path in sorted(SUBMIT_PATHS):
            self.http_api.add_routes(
                path=path, methods=[apigwv2.HttpMethod.ANY], integration=submit_integration
            )

        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=ACCESS_LOG_RETENTION,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=int_context(self, RATE_LIMIT_CONTEXT, DEFAULT_RATE_LIMIT),
                burst_limit=int_context(self, BURST_LIMIT_CONTEXT, DEFAULT_BURST_LIMIT),
            ),
            access_log_settings=_AccessLogSettings(self.access_logs),
            domain_mapping=(
                apigwv2.DomainMappingOptions(domain_name=self.domain_name) if self.domain_name else None
            ),
        )
        self.url = f"https://{domain}/" if domain else self.stage.url
        self.origin_domain = domain  # what CloudFront connects to when the API is behind it
        cdk.CfnOutput(self, "Url", value=self.url, description="Base URL of the OpenLoc API")
        if self.domain_name is not None:
            cdk.CfnOutput(
                self,
                "DomainTarget",
                value=self.domain_name.regional_domain_name,
                description=f"Point {domain} here (DNS CNAME or alias record)",
            )


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """IAccessLogSettings: the log group as destination, ACCESS_LOG_FORMAT as a JSON line."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")))
