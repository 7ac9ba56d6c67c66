"""Cache: Redis for the API-key cache and rate limits, as ElastiCache Serverless (Valkey) in a VPC.

Enabled with the context `openloc:redis=true`. Without it the service runs without Redis: API keys
are read from DynamoDB (cached per Lambda instance) and no rate limits apply — the code treats an
empty `REDIS_URL` exactly like a Redis outage.

With it, the locate and submit functions join this VPC (only they talk to Redis; the aggregator
and the export jobs stay outside). The VPC has isolated subnets only — no NAT gateway — and
reaches AWS through endpoints: gateway endpoints for DynamoDB and S3 (free) and interface
endpoints for SQS (submit enqueues observations) and X-Ray (traces). docs/deploy.md compares the
cost with a NAT gateway. Valkey requires TLS (`rediss://`) and is reachable only from the
functions' security group.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.context import int_context

REDIS_CONTEXT = "openloc:redis"
MAX_STORAGE_GB_CONTEXT = "openloc:redis_max_storage_gb"
MAX_ECPU_CONTEXT = "openloc:redis_max_ecpu_per_second"
DEFAULT_MAX_STORAGE_GB = 1  # keys cache + counters: kilobytes per active client
DEFAULT_MAX_ECPU_PER_SECOND = 20_000
VALKEY_PORT = 6379
VALKEY_MAJOR_VERSION = "8"
AVAILABILITY_ZONES = 2  # ElastiCache Serverless needs subnets in at least two zones
FLOW_LOG_RETENTION = logs.RetentionDays.ONE_MONTH


class Cache(Construct):
    """`vpc`, `subnets` and `security_group` for the functions that use Redis; `redis_url`."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=FLOW_LOG_RETENTION, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=AVAILABILITY_ZONES,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
            flow_logs={
                "Rejected": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                    traffic_type=ec2.FlowLogTrafficType.REJECT,
                )
            },
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.security_group = ec2.SecurityGroup(
            self,
            "FunctionsSecurityGroup",
            vpc=self.vpc,
            description="OpenLoc locate/submit functions (clients of Valkey and the VPC endpoints)",
            allow_all_outbound=True,
        )
        self.cache_security_group = ec2.SecurityGroup(
            self,
            "ValkeySecurityGroup",
            vpc=self.vpc,
            description="OpenLoc Valkey: reachable from the functions only",
            allow_all_outbound=False,
        )
        self.cache_security_group.add_ingress_rule(
            self.security_group, ec2.Port.tcp(VALKEY_PORT), "Valkey from the OpenLoc functions"
        )
        # Interface endpoints accept HTTPS from the functions only (not the whole VPC range).
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointsSecurityGroup",
            vpc=self.vpc,
            description="OpenLoc interface endpoints (SQS, X-Ray): HTTPS from the functions",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            self.security_group, ec2.Port.tcp(443), "HTTPS from the OpenLoc functions"
        )
        for name, service in (
            ("Sqs", ec2.InterfaceVpcEndpointAwsService.SQS),
            ("XRay", ec2.InterfaceVpcEndpointAwsService.XRAY),
        ):
            self.vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                subnets=self.subnets,
                open=False,
                security_groups=[self.endpoint_security_group],
            )

        stack = cdk.Stack.of(self)
        self.cache = elasticache.CfnServerlessCache(
            self,
            "Valkey",
            engine="valkey",
            major_engine_version=VALKEY_MAJOR_VERSION,
            serverless_cache_name=f"{stack.stack_name.lower()}-cache",
            description="OpenLoc API-key cache and rate limits",
            subnet_ids=self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
            security_group_ids=[self.cache_security_group.security_group_id],
            cache_usage_limits=elasticache.CfnServerlessCache.CacheUsageLimitsProperty(
                data_storage=elasticache.CfnServerlessCache.DataStorageProperty(
                    unit="GB", maximum=int_context(self, MAX_STORAGE_GB_CONTEXT, DEFAULT_MAX_STORAGE_GB)
                ),
                ecpu_per_second=elasticache.CfnServerlessCache.ECPUPerSecondProperty(
                    maximum=int_context(self, MAX_ECPU_CONTEXT, DEFAULT_MAX_ECPU_PER_SECOND)
                ),
            ),
        )
        self.redis_url = f"rediss://{self.cache.attr_endpoint_address}:{self.cache.attr_endpoint_port}/0"
