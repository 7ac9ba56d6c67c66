"""Cost model: $ per million locate calls and per million observations from public list prices.

Prices are AWS us-east-1 on-demand list prices as recorded in this file (PRICES_AS_OF); the runner
does not fetch prices. Measured inputs come from the run (in-process request time, aggregation
rate, requests per observation); assumptions are named constants below and printed in the report.
"""

from __future__ import annotations

from typing import Any

from scripts.deploy_costs import PRICES_AS_OF, Prices

__all__ = ["PRICES_AS_OF", "cost_model", "fleet_monthly", "locate_cost", "observation_cost"]

# One price list for the benchmark report and docs/deploy.md (scripts/deploy_costs.py).
_PRICES = Prices()
LAMBDA_GB_SECOND_ARM = _PRICES.lambda_gb_second
LAMBDA_REQUEST = _PRICES.lambda_per_million / 1e6
HTTP_API_REQUEST = _PRICES.api_per_million / 1e6  # API Gateway HTTP API, first 300 M a month, per 512 KB
DYNAMODB_READ_UNIT = _PRICES.dynamodb_read_unit  # 4 KB strongly / 2 × 4 KB eventually consistent
DYNAMODB_WRITE_UNIT = _PRICES.dynamodb_write_unit
SQS_REQUEST = _PRICES.sqs_per_million / 1e6
GOOGLE_GEOLOCATION_PER_1000 = 5.00  # list price, first 100 000 requests a month (volume tiers lower it)
EC2_M5_LARGE_HOUR = 0.096  # assumed instance type of the fixed fleet (the size Mozilla ran is not public)
FLEET_INSTANCES = 25  # Mozilla Location Service: 20 web + 5 async workers
HOURS_PER_MONTH = 730

# Assumptions (not measured here)
LOCATE_MEMORY_GB = 0.5  # infra: locate function 512 MB
AGGREGATE_MEMORY_GB = 1.0  # infra: aggregate function 1024 MB
SUBMIT_MEMORY_GB = 0.5
VCPU_PER_GB = 1 / 1.769  # Lambda gives one vCPU at 1 769 MB
DYNAMODB_ROUND_TRIP_MS = 8.0  # one BatchGetItem from Lambda in-region
SUBMIT_REQUEST_MS = 40.0  # parse + validate + one SQS SendMessageBatch for a 100-report upload
BATCH_GET_KEYS = 100


def locate_cost(request_ms: float, keys_per_query: float) -> dict[str, float]:
    """$ per million /v1/geolocate calls."""
    billed_ms = request_ms + DYNAMODB_ROUND_TRIP_MS
    parts = {
        "API Gateway": HTTP_API_REQUEST * 1e6,
        "Lambda requests": LAMBDA_REQUEST * 1e6,
        "Lambda duration": LOCATE_MEMORY_GB * billed_ms / 1000 * LAMBDA_GB_SECOND_ARM * 1e6,
        "DynamoDB reads": keys_per_query / 2 * DYNAMODB_READ_UNIT * 1e6,
    }
    parts["total"] = sum(parts.values())
    return parts


def observation_cost(
    obs_per_request: float, aggregate_obs_per_s: float, storage_dollars_per_million: float
) -> dict[str, float]:
    """$ per million observations: submit path + aggregation compute + storage/queue requests."""
    requests = 1e6 / obs_per_request
    aggregate_seconds = 1e6 / (aggregate_obs_per_s * AGGREGATE_MEMORY_GB * VCPU_PER_GB)
    aggregate_seconds += 1e6 / BATCH_GET_KEYS * DYNAMODB_ROUND_TRIP_MS / 1000
    parts = {
        "API Gateway (submit)": requests * HTTP_API_REQUEST,
        "Lambda submit": requests
        * (LAMBDA_REQUEST + SUBMIT_MEMORY_GB * SUBMIT_REQUEST_MS / 1000 * LAMBDA_GB_SECOND_ARM),
        "Lambda aggregate": aggregate_seconds * AGGREGATE_MEMORY_GB * LAMBDA_GB_SECOND_ARM,
        "DynamoDB + SQS + S3 (measured requests)": storage_dollars_per_million,
    }
    parts["total"] = sum(parts.values())
    return parts


def fleet_monthly() -> float:
    return FLEET_INSTANCES * EC2_M5_LARGE_HOUR * HOURS_PER_MONTH


def cost_model(results: dict[str, Any]) -> dict[str, Any]:
    accuracy = results.get("accuracy") or {}
    latency = (accuracy.get("http_latency_ms") or {}).get("p50") or 5.0
    keys = accuracy.get("world", {}).get("keys_per_query") or 10.0
    aggregation = results.get("aggregation") or {}
    rate = next((r[2] for r in aggregation.get("throughput", []) if r[0] >= 1000), 20_000.0)
    storage = next(
        (
            r["dollars_per_million"]
            for r in aggregation.get("write_cost", [])
            if "default" in str(r["policy"])
        ),
        0.07,
    )
    obs_per_request = accuracy.get("world", {}).get("observations_per_upload") or 1_500.0
    return {
        "inputs": {
            "in_process_request_ms": latency, "keys_per_query": keys, "aggregate_obs_per_s": rate,
            "storage_dollars_per_million_obs": storage, "observations_per_request": obs_per_request,
        },
        "locate": locate_cost(latency, keys),
        "observations": observation_cost(obs_per_request, rate, storage),
        "google_per_million": GOOGLE_GEOLOCATION_PER_1000 * 1000,
        "fleet_monthly": fleet_monthly(),
    }  # fmt: skip
