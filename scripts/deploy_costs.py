"""Estimated monthly AWS cost of a deployment, as tabulated in docs/deploy.md.

    .venv/bin/python scripts/deploy_costs.py            # the docs table (markdown)

Public on-demand list prices, us-east-1, arm64, checked November 2026 (PRICES); free tiers are
ignored. The usage assumptions (USAGE) are stated in docs/deploy.md next to the table; change
them here and re-run to price another workload.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

PRICES_AS_OF = "2026-11 (AWS and Google public price pages; us-east-1, on-demand, no free tier)"
SECONDS_PER_MONTH = 730 * 3600
MILLION = 1_000_000


@dataclass(frozen=True)
class Prices:
    api_per_million: float = 1.00  # HTTP API, first 300 M requests a month
    api_per_million_above: float = 0.90
    api_tier_requests: float = 300 * MILLION
    lambda_per_million: float = 0.20
    lambda_gb_second: float = 0.0000133334  # arm64
    snapstart_cache_gb_second: float = 0.0000015046
    dynamodb_read_unit: float = 0.125 / MILLION  # on-demand RRU
    dynamodb_write_unit: float = 0.625 / MILLION  # on-demand WRU
    dynamodb_gb_month: float = 0.25
    pitr_gb_month: float = 0.20
    sqs_per_million: float = 0.40
    s3_put_per_thousand: float = 0.005
    s3_ia_gb_month: float = 0.0125
    cloudfront_gb: float = 0.085
    cloudwatch_alarm: float = 0.10
    cloudwatch_dashboard: float = 3.00
    kms_key: float = 1.00
    xray_per_million_traces: float = 5.00
    valkey_gb_hour: float = 0.0837  # ElastiCache Serverless Valkey, 100 MB minimum
    valkey_per_million_ecpu: float = 0.0023
    interface_endpoint_hour: float = 0.01  # per endpoint and AZ
    nat_gateway_hour: float = 0.045


@dataclass(frozen=True)
class Usage:
    observations_per_day: float = 10 * MILLION
    observations_per_submit: float = 50  # stumbler apps upload batches
    locate_memory_gb: float = 0.5
    locate_billed_seconds: float = 0.025  # engine < 1 ms; DynamoDB BatchGetItem dominates
    locate_read_units: float = 11.65  # 23.3 station/cell keys per phone query (bench), 2 per read unit
    submit_billed_seconds: float = 0.030
    aggregate_cost_per_million_observations: float = 0.33  # docs/benchmarks.md, every observation merged
    aggregate_gb_seconds_per_million: float = 200.0  # 1 GB function, ~5 000 observations/s with I/O
    archive_bytes_per_observation: float = 300.0  # gzip JSON lines
    archive_months_kept: float = 12.0
    stations_gb: float = 20.0  # ~40 M stations
    cdn_gb: float = 100.0  # website, tiles, exports
    trace_rate: float = 0.05  # Lambda active tracing: 1 request/s plus 5 %
    alarms: int = 7
    redis_ecpu_per_request: float = 4.0  # key cache, daily counter, burst counter, per-IP counter


def api_requests(prices: Prices, requests: float) -> float:
    lower = min(requests, prices.api_tier_requests)
    upper = max(0.0, requests - prices.api_tier_requests)
    return (lower * prices.api_per_million + upper * prices.api_per_million_above) / MILLION


def monthly_costs(locate_per_second: float, *, redis: bool, prices: Prices, usage: Usage) -> dict[str, float]:
    """Cost per line item (USD a month) at a steady locate rate plus the observation load."""
    locates = locate_per_second * SECONDS_PER_MONTH
    observations = usage.observations_per_day * 730 / 24
    submits = observations / usage.observations_per_submit
    requests = locates + submits
    lambda_requests = requests * prices.lambda_per_million / MILLION
    gb_seconds = (
        locates * usage.locate_memory_gb * usage.locate_billed_seconds
        + submits * 0.5 * usage.submit_billed_seconds
        + observations / MILLION * usage.aggregate_gb_seconds_per_million
    )
    traced = (
        min(requests, SECONDS_PER_MONTH * 2) + max(0.0, requests - SECONDS_PER_MONTH * 2) * usage.trace_rate
    )
    archive_gb = observations * usage.archive_bytes_per_observation / 1e9
    costs = {
        "API Gateway (HTTP API)": api_requests(prices, requests),
        "Lambda (requests + GB-s)": lambda_requests + gb_seconds * prices.lambda_gb_second,
        "Lambda SnapStart cache (2 × 512 MB)": 2 * 0.5 * SECONDS_PER_MONTH * prices.snapstart_cache_gb_second,
        "DynamoDB locate reads": locates * usage.locate_read_units * prices.dynamodb_read_unit,
        "DynamoDB + SQS + S3 aggregation": observations
        / MILLION
        * usage.aggregate_cost_per_million_observations,
        "SQS submit messages (send/receive/delete)": submits * 3 * prices.sqs_per_million / MILLION,
        "DynamoDB storage + PITR": usage.stations_gb * (prices.dynamodb_gb_month + prices.pitr_gb_month),
        "S3 archive (a year kept, IA)": archive_gb * usage.archive_months_kept * prices.s3_ia_gb_month,
        "CloudFront (website, tiles, exports)": usage.cdn_gb * prices.cloudfront_gb,
        "X-Ray traces": traced * prices.xray_per_million_traces / MILLION,
        "CloudWatch alarms, dashboard, KMS": usage.alarms * prices.cloudwatch_alarm
        + prices.cloudwatch_dashboard
        + prices.kms_key,
    }
    if redis:
        costs["Valkey Serverless (0.1 GB minimum + ECPU)"] = (
            0.1 * 730 * prices.valkey_gb_hour
            + requests * usage.redis_ecpu_per_request * prices.valkey_per_million_ecpu / MILLION
        )
        costs["VPC interface endpoints (SQS, X-Ray × 2 AZ)"] = 4 * 730 * prices.interface_endpoint_hour
    return costs


def table(rates: tuple[float, ...], *, prices: Prices, usage: Usage) -> str:
    columns = [(rate, redis) for rate in rates for redis in (False,)] + [(rates[-1], True)]
    per_column = [monthly_costs(rate, redis=redis, prices=prices, usage=usage) for rate, redis in columns]
    items = list(dict.fromkeys(item for costs in per_column for item in costs))
    header = "| monthly USD | " + " | ".join(
        f"{rate:g} req/s{' + Redis' if redis else ''}" for rate, redis in columns
    )
    lines = [header + " |", "|---" * (len(columns) + 1) + "|"]
    for item in items:
        cells = " | ".join(f"{costs.get(item, 0.0):,.2f}" for costs in per_column)
        lines.append(f"| {item} | {cells} |")
    totals = " | ".join(f"**{sum(costs.values()):,.0f}**" for costs in per_column)
    lines.append(f"| **total** | {totals} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", type=float, nargs="+", default=[0, 10, 100, 1000], help="locate req/s")
    args = parser.parse_args(argv)
    print(table(tuple(args.rates), prices=Prices(), usage=Usage()))


if __name__ == "__main__":
    main()
