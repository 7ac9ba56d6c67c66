"""API: how clients reach the locate and submit functions (docs/design.md §1, §5), `openloc:api`.

`http-api` (default): an API Gateway HTTP API. Routes follow `openloc.api.routing`: every
submission path goes to submit, whatever the method (so `OPTIONS` and a wrong method get the submit
app's own answer, as locally), everything else (`$default`, including unknown paths that answer
404) to locate. Both integrations invoke the `live` alias (the SnapStart version). The default
stage throttles (context `openloc:api_rate_limit` requests/s and `openloc:api_burst_limit`) and
writes JSON access logs without client IPs, user agents or query strings: the privacy model never
stores the first two (docs/privacy.md), so `$context.identity.sourceIp` and
`$context.identity.userAgent` are deliberately absent, and the query string carries `?key=`.
Behind CloudFront (`openloc:api_behind_cdn`), the API is reachable only through its custom
domain, which CloudFront uses as its origin: the default `execute-api` endpoint is disabled.

`function-url`: Lambda function URLs on the `live` aliases of locate and submit, one URL each
(`UrlOutput`, `SubmitUrlOutput`): no API Gateway, so no per-request fee of its own ($1.00 per
million requests less, docs/deploy.md). What is lost: a custom domain (only through CloudFront,
`openloc:api_behind_cdn` with `openloc:cdn_domain_name`, which is billed per request again), stage
throttling (replaced by reserved concurrency on both functions, `openloc:api_concurrency`: excess
requests get Lambda's 429, plus the app's own per-key and per-IP limits in Redis), API Gateway's
access logs (the functions' JSON logs remain) and one base URL for both (clients configure the
submit URL separately, or use the CloudFront domain). Authentication is the app's `?key=` as with
the HTTP API (auth type NONE: the contract has no AWS signatures). Behind CloudFront the function
URLs are the origins; they cannot be switched off, so calls around CloudFront are refused by the
functions themselves.

Either way, behind CloudFront the functions refuse every request without CloudFront's origin
secret (`openloc.api.origin`, docs/security.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from openloc.api.routing import SUBMIT_PATHS

from infra.cdn import API_BEHIND_CDN_CONTEXT
from infra.context import bool_context, choice_context, int_context, str_context

API_CONTEXT = "openloc:api"
API_MODES = ("http-api", "function-url")
# Reserved concurrency of locate and of submit with function URLs (their only throttle).
CONCURRENCY_CONTEXT = "openloc:api_concurrency"
DEFAULT_CONCURRENCY = 100
DOMAIN_CONTEXT = "openloc:api_domain_name"
CERTIFICATE_CONTEXT = "openloc:api_certificate_arn"  # ACM, in the stack's region
RATE_LIMIT_CONTEXT = "openloc:api_rate_limit"
BURST_LIMIT_CONTEXT = "openloc:api_burst_limit"
DEFAULT_RATE_LIMIT = 200  # steady requests per second over the whole stage
DEFAULT_BURST_LIMIT = 400
ACCESS_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
PERIOD = cdk.Duration.minutes(5)

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


def api_mode(scope: Construct) -> str:
    return choice_context(scope, API_CONTEXT, API_MODES, "http-api")


class Api(Construct):
    """The API of the chosen mode: `endpoints` (function name → https base URL of what serves
    it), `url` (the base URL clients use for locate) and the metrics the alarms watch."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        locate: lambda_.IFunction,
        submit: lambda_.IFunction,
        mode: str = "http-api",
        metric_functions: Mapping[str, lambda_.IFunction] | None = None,
    ) -> None:
        """`locate`/`submit`: what the API invokes (the `live` aliases); `metric_functions`: the
        functions themselves, whose URL metrics the alarms watch with function URLs."""
        super().__init__(scope, construct_id)
        self.mode = mode
        self.functions: Mapping[str, lambda_.IFunction] = metric_functions or {
            "locate": locate,
            "submit": submit,
        }
        domain = str_context(self, DOMAIN_CONTEXT)
        certificate_arn = str_context(self, CERTIFICATE_CONTEXT)
        if bool(domain) != bool(certificate_arn):
            raise ValueError(f"{DOMAIN_CONTEXT} and {CERTIFICATE_CONTEXT} go together")
        self.behind_cdn = bool_context(self, API_BEHIND_CDN_CONTEXT, default=False)
        self.http_api: apigwv2.HttpApi | None = None
        self.function_urls: dict[str, lambda_.FunctionUrl] = {}
        if mode == "function-url":
            if domain:
                raise ValueError(
                    f"{DOMAIN_CONTEXT} needs the HTTP API; with function URLs use openloc:api_behind_cdn "
                    "and openloc:cdn_domain_name"
                )
            self._function_urls(locate, submit)
        else:
            if self.behind_cdn and not domain:
                raise ValueError(
                    f"{API_BEHIND_CDN_CONTEXT}=true needs {DOMAIN_CONTEXT} and {CERTIFICATE_CONTEXT}: "
                    "CloudFront reaches the API through its custom domain, the execute-api endpoint is "
                    "disabled"
                )
            self._http_api(locate, submit, domain, certificate_arn)

    def _function_urls(self, locate: lambda_.IFunction, submit: lambda_.IFunction) -> None:
        for name, function in (("locate", locate), ("submit", submit)):
            self.function_urls[name] = lambda_.FunctionUrl(
                self,
                f"{name.capitalize()}FunctionUrl",
                function=function,
                auth_type=lambda_.FunctionUrlAuthType.NONE,
                invoke_mode=lambda_.InvokeMode.BUFFERED,
            )
        endpoints = {name: url.url for name, url in self.function_urls.items()}
        # What CloudFront connects to when the API is behind it: each function URL's host.
        self.origin_domains = {
            name: cdk.Fn.select(2, cdk.Fn.split("/", endpoint)) for name, endpoint in endpoints.items()
        }
        self.url = endpoints["locate"]
        cdk.CfnOutput(
            self, "Url", value=self.url, description="Base URL of the OpenLoc API (locate function)"
        )
        cdk.CfnOutput(
            self,
            "SubmitUrl",
            value=endpoints["submit"],
            description="Base URL of the submissions (submit)",
        )

    def _http_api(
        self, locate: lambda_.IFunction, submit: lambda_.IFunction, domain: str, certificate_arn: str
    ) -> None:
        stack = cdk.Stack.of(self)
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
        # What CloudFront connects to when the API is behind it (one origin for every API path).
        self.origin_domains = {"locate": domain} if domain else {}
        cdk.CfnOutput(self, "Url", value=self.url, description="Base URL of the OpenLoc API")
        if self.domain_name is not None:
            cdk.CfnOutput(
                self,
                "DomainTarget",
                value=self.domain_name.regional_domain_name,
                description=f"Point {domain} here (DNS CNAME or alias record)",
            )

    # What the alarms and the dashboard watch, in either mode.

    def metric_requests(self) -> cloudwatch.IMetric:
        if self.http_api is not None:
            return self.http_api.metric_count(period=PERIOD, statistic="Sum")
        return self._url_sum("UrlRequestCount", "requests", "count")

    def metric_server_errors(self) -> cloudwatch.IMetric:
        if self.http_api is not None:
            return self.http_api.metric_server_error(period=PERIOD, statistic="Sum")
        return self._url_sum("Url5xxCount", "5xx", "errors")

    def metric_latency(self, statistic: str) -> cloudwatch.IMetric:
        """End-to-end latency (function URLs: the locate function's, the hot path)."""
        if self.http_api is not None:
            return self.http_api.metric_latency(period=PERIOD, statistic=statistic)
        return self._url_metric("locate", "UrlRequestLatency", statistic)

    def metric_backend_latency(self, statistic: str) -> cloudwatch.IMetric:
        if self.http_api is not None:
            return self.http_api.metric_integration_latency(period=PERIOD, statistic=statistic)
        return self._url_metric("submit", "UrlRequestLatency", statistic)

    def _url_metric(self, name: str, metric: str, statistic: str) -> cloudwatch.Metric:
        function = self.functions[name]
        return cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name=metric,
            dimensions_map={"FunctionName": function.function_name},
            period=PERIOD,
            statistic=statistic,
            label=f"{name} {metric}",
        )

    def _url_sum(self, metric: str, label: str, prefix: str) -> cloudwatch.MathExpression:
        """The sum over both functions (`prefix`: unique ids inside an enclosing expression)."""
        return cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({prefix}{name.capitalize()}, 0)" for name in self.functions),
            using_metrics={
                f"{prefix}{name.capitalize()}": self._url_metric(name, metric, "Sum")
                for name in self.functions
            },
            period=PERIOD,
            label=label,
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
