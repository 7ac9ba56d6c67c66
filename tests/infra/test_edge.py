"""The public edge: HTTP API, CloudFront in front of the assets bucket, and the optional cache VPC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from openloc.api.routing import SUBMIT_PATHS
from openloc.website import LIBRARY_CACHE, PAGE_CACHE

from infra.cdn import API_PATH_PATTERNS, CACHED_PATHS
from tests.infra.templates import functions, only, resources, synth, unbuilt_assets

pytestmark = pytest.mark.infra


def test_http_api_is_dual_stack_with_submit_routes(template: Template) -> None:
    _, api = only(template, "AWS::ApiGatewayV2::Api")
    assert api["Properties"]["ProtocolType"] == "HTTP"
    assert api["Properties"]["IpAddressType"] == "dualstack"
    routes = sorted(
        route["Properties"]["RouteKey"] for route in resources(template, "AWS::ApiGatewayV2::Route").values()
    )
    assert routes == sorted(["$default", *(f"ANY {path}" for path in SUBMIT_PATHS)])


def test_stage_throttles_and_logs_without_ips_or_keys(template: Template) -> None:
    _, stage = only(template, "AWS::ApiGatewayV2::Stage")
    properties = stage["Properties"]
    assert properties["DefaultRouteSettings"]["ThrottlingRateLimit"] == 200
    assert properties["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 400
    log_format = json.loads(properties["AccessLogSettings"]["Format"])
    assert "status" in log_format and "responseLatency" in log_format
    assert not any(
        "sourceIp" in value or "userAgent" in value or "querystring" in value.lower()
        for value in log_format.values()
    )


def test_integrations_invoke_the_live_aliases(template: Template) -> None:
    aliases = set(resources(template, "AWS::Lambda::Alias"))
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    assert len(integrations) == 2
    for integration in integrations.values():
        assert integration["Properties"]["IntegrationUri"]["Ref"] in aliases


def test_custom_api_domain_is_dual_stack_tls12(full_template: Template) -> None:
    _, domain = only(full_template, "AWS::ApiGatewayV2::DomainName")
    (configuration,) = domain["Properties"]["DomainNameConfigurations"]
    assert domain["Properties"]["DomainName"] == "api.example.org"
    assert configuration["IpAddressType"] == "dualstack"
    assert configuration["SecurityPolicy"] == "TLS_1_2"
    only(full_template, "AWS::ApiGatewayV2::ApiMapping")


def distribution(template: Template) -> dict[str, Any]:
    config: dict[str, Any] = only(template, "AWS::CloudFront::Distribution")[1]["Properties"][
        "DistributionConfig"
    ]
    return config


def test_assets_bucket_only_through_origin_access_control(template: Template) -> None:
    config = distribution(template)
    control_id, control = only(template, "AWS::CloudFront::OriginAccessControl")
    assert control["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [control_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    grants = [
        statement
        for policy in resources(template, "AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert len(grants) == 1
    assert grants[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in grants[0]["Condition"]["StringEquals"]  # this distribution only


def test_distribution_https_ipv6_and_security_headers(template: Template) -> None:
    config = distribution(template)
    assert config["IPV6Enabled"] is True
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    (headers,) = [
        policy
        for logical_id, policy in resources(template, "AWS::CloudFront::ResponseHeadersPolicy").items()
        if "SecurityHeaders" in logical_id
    ]
    security = headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 365 * 24 * 3600
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert "frame-ancestors 'none'" in security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    # No CDN scripts, and without a configured base layer no other host at all.
    assert "http" not in security["ContentSecurityPolicy"]["ContentSecurityPolicy"]


def test_caching_per_path(template: Template) -> None:
    behaviors = {b["PathPattern"]: b for b in distribution(template)["CacheBehaviors"]}
    assert set(behaviors) == {path.pattern for path in CACHED_PATHS}
    policies = resources(template, "AWS::CloudFront::CachePolicy")
    for path in CACHED_PATHS:
        policy_id = behaviors[path.pattern]["CachePolicyId"]["Ref"]
        config = policies[policy_id]["Properties"]["CachePolicyConfig"]
        assert config["DefaultTTL"] == path.default_ttl.to_seconds()
        assert config["MaxTTL"] == path.max_ttl.to_seconds()


def test_api_behind_the_distribution_is_never_cached(full_template: Template) -> None:
    config = distribution(full_template)
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(API_PATH_PATTERNS) <= set(behaviors)
    caching_disabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed CachingDisabled
    for pattern in API_PATH_PATTERNS:
        assert behaviors[pattern]["CachePolicyId"] == caching_disabled
        assert "POST" in behaviors[pattern]["AllowedMethods"]
    assert len(config["Origins"]) == 2
    assert config["Aliases"] == ["www.example.org"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"


def test_no_cache_means_no_vpc(template: Template) -> None:
    assert not resources(template, "AWS::EC2::VPC")
    assert not resources(template, "AWS::ElastiCache::ServerlessCache")
    for properties in functions(template).values():
        assert "VpcConfig" not in properties


def test_valkey_serverless_in_an_endpoint_only_vpc(full_template: Template) -> None:
    _, cache = only(full_template, "AWS::ElastiCache::ServerlessCache")
    assert cache["Properties"]["Engine"] == "valkey"
    assert not resources(full_template, "AWS::EC2::NatGateway")
    endpoints = resources(full_template, "AWS::EC2::VPCEndpoint")
    services = sorted(str(e["Properties"]["ServiceName"]) for e in endpoints.values())
    assert len(services) == 4 and all(
        any(s in name for name in services) for s in ("dynamodb", "s3", "sqs", "xray")
    )
    found = functions(full_template)
    for name in ("locate", "submit"):
        assert "VpcConfig" in found[name]
        assert found[name]["Environment"]["Variables"]["REDIS_URL"]["Fn::Join"][1][0] == "rediss://"
    for name in ("aggregate", "export"):
        assert "VpcConfig" not in found[name]


def test_valkey_reachable_from_the_functions_only(full_template: Template) -> None:
    ingress = [
        rule["Properties"]
        for rule in resources(full_template, "AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["FromPort"] == 6379
    ]
    assert len(ingress) == 1
    assert "SourceSecurityGroupId" in ingress[0]
    for group in resources(full_template, "AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0"


def test_website_copied_without_pruning_with_two_cache_lifetimes(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>OpenLoc</title>")
    template = synth(assets={**unbuilt_assets(), "site": tmp_path})
    deployments = [d["Properties"] for d in resources(template, "Custom::CDKBucketDeployment").values()]
    assert all(properties["Prune"] is False for properties in deployments)
    (libraries,) = [d for d in deployments if "Include" in d]
    (config,) = [d for d in deployments if d.get("DistributionPaths") == ["/config.json"]]
    (pages,) = [d for d in deployments if d is not libraries and d is not config]
    assert libraries["Include"] == ["vendor/*", "basemap/*"]
    assert libraries["SystemMetadata"]["cache-control"] == LIBRARY_CACHE
    assert pages["Exclude"] == ["vendor/*", "basemap/*", "config.json"]  # config.json comes from the context
    assert "/*.html" in pages["DistributionPaths"]
    assert pages["SystemMetadata"]["cache-control"] == config["SystemMetadata"]["cache-control"] == PAGE_CACHE
    assert config["DistributionPaths"] == ["/config.json"]
    assert config["SystemMetadata"]["content-type"] == "application/json"


def security_policy(template: Template) -> str:
    (headers,) = [
        policy
        for logical_id, policy in resources(template, "AWS::CloudFront::ResponseHeadersPolicy").items()
        if "SecurityHeaders" in logical_id
    ]
    config = headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    return str(config["ContentSecurityPolicy"]["ContentSecurityPolicy"])


def test_configured_base_layer_is_the_one_host_the_site_may_load_images_from(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>OpenLoc</title>")
    context = {
        "openloc:basemap_url": "https://tiles.example.org/{z}/{x}/{y}.png",
        "openloc:basemap_attribution": "© OpenStreetMap contributors",
        "openloc:basemap_max_zoom": "18",
    }
    template = synth(context, assets={**unbuilt_assets(), "site": tmp_path})
    policy = security_policy(template)
    assert "img-src 'self' data: blob: https://tiles.example.org;" in policy
    assert policy.count("tiles.example.org") == 1
    with pytest.raises(ValueError, match="must use https"):
        synth({**context, "openloc:basemap_url": "http://tiles.example.org/{z}/{x}/{y}.png"})
    with pytest.raises(ValueError, match="needs its attribution"):
        synth({"openloc:basemap_url": "https://tiles.example.org/{z}/{x}/{y}.png"})


def test_no_website_deployment_before_the_site_is_built(template: Template) -> None:
    assert not resources(template, "Custom::CDKBucketDeployment")


FUNCTION_URLS: dict[str, Any] = {"openloc:api": "function-url"}


@pytest.fixture(scope="module")
def url_template() -> Template:
    return synth(FUNCTION_URLS)


def test_function_urls_replace_the_http_api(url_template: Template) -> None:
    assert resources(url_template, "AWS::ApiGatewayV2::Api") == {}
    urls = resources(url_template, "AWS::Lambda::Url")
    aliases = resources(url_template, "AWS::Lambda::Alias")
    assert len(urls) == 2
    for url in urls.values():
        properties = url["Properties"]
        assert properties["AuthType"] == "NONE"  # the app checks ?key=, as behind the HTTP API
        assert properties["InvokeMode"] == "BUFFERED"
        assert properties["Qualifier"] == "live"  # the alias of the SnapStart version
        assert set(url["DependsOn"]) <= set(aliases)
    # Public URLs need both grants: the URL invocation and the function invocation through it.
    grants = [p["Properties"] for p in resources(url_template, "AWS::Lambda::Permission").values()]
    public = [g for g in grants if g["Principal"] == "*"]
    assert sorted(g["Action"] for g in public) == sorted(
        ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"] * 2
    )
    assert all(g.get("FunctionUrlAuthType") == "NONE" or g.get("InvokedViaFunctionUrl") for g in public)
    outputs = url_template.to_json()["Outputs"]
    assert any(key.startswith("ApiUrl") for key in outputs)
    assert any(key.startswith("ApiSubmitUrl") for key in outputs)


def test_function_urls_are_throttled_by_reserved_concurrency(
    url_template: Template, template: Template
) -> None:
    found = functions(url_template)
    assert found["locate"]["ReservedConcurrentExecutions"] == 100
    assert found["submit"]["ReservedConcurrentExecutions"] == 100
    assert "ReservedConcurrentExecutions" not in functions(template)["locate"]  # the stage throttles there
    tight = functions(synth({**FUNCTION_URLS, "openloc:api_concurrency": 20}))
    assert tight["locate"]["ReservedConcurrentExecutions"] == 20


def test_function_url_alarms_watch_the_url_metrics(url_template: Template) -> None:
    alarms = resources(url_template, "AWS::CloudWatch::Alarm")
    metric_names = {
        metric["MetricStat"]["Metric"]["MetricName"]
        for alarm in alarms.values()
        for metric in alarm["Properties"].get("Metrics", [])
        if "MetricStat" in metric
    } | {alarm["Properties"].get("MetricName") for alarm in alarms.values()}
    assert {"UrlRequestCount", "Url5xxCount", "UrlRequestLatency"} <= metric_names


def test_function_urls_behind_the_cdn_route_submissions_to_submit(url_template: Template) -> None:
    behind = synth({**FUNCTION_URLS, "openloc:api_behind_cdn": True})
    config = distribution(behind)
    origins_by_id = {origin["Id"]: origin for origin in config["Origins"]}
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    submit_origins = {behaviors[path.lstrip("/")]["TargetOriginId"] for path in SUBMIT_PATHS}
    locate_origins = {behaviors[pattern]["TargetOriginId"] for pattern in API_PATH_PATTERNS}
    assert len(submit_origins) == 1 and len(locate_origins) == 1 and submit_origins != locate_origins
    urls = set(resources(behind, "AWS::Lambda::Url"))
    for origin_id in submit_origins | locate_origins:
        domain = json.dumps(origins_by_id[origin_id]["DomainName"])
        assert any(url in domain for url in urls)
    # CloudFront matches behaviours in order: the exact submission paths come before v1/* and v2/*.
    order = [b["PathPattern"] for b in config["CacheBehaviors"]]
    assert max(order.index(path.lstrip("/")) for path in SUBMIT_PATHS) < order.index("v1/*")


def test_function_urls_refuse_an_api_domain() -> None:
    with pytest.raises(Exception, match="function URLs"):
        synth(
            {
                **FUNCTION_URLS,
                "openloc:api_domain_name": "api.example.org",
                "openloc:api_certificate_arn": "arn:aws:acm:eu-central-1:123456789012:certificate/api",
            }
        )
