"""The cost model: $ per million locate calls, per million observations, and a month of a deployment.

One model for docs/benchmarks.md (per call, `make bench`) and docs/deploy.md (the monthly table):

    .venv/bin/python -m infra.costs                 # the docs/deploy.md table, from the newest run
    .venv/bin/python -m infra.costs --results F     # ... from a stored `make bench` run

Prices are public on-demand list prices (us-east-1, arm64, free tiers ignored) recorded here
(`Prices`, `PRICES_AS_OF`); nothing is fetched. Function memory comes from the table the CDK app
deploys (`infra/functions.py`). What the code does per request is measured by `make bench` and
read from its stored results (`Measured.from_results`): the CPU time of one phone query through
the locate handler, the DynamoDB keys read and round trips per phone query (strongest first,
behind the per-instance cache), the aggregation rate and its storage requests. What cannot be
measured without AWS is a named assumption (`Assumptions`), printed next to the tables.

Billed duration of a locate call = CPU time × (1 769 MB / the function's memory: Lambda gives a
function that share of one vCPU, so CPU-bound work stretches) + DynamoDB round trips × their
assumed latency, rounded up to Lambda's 1 ms.

API options (`openloc:api`): "http-api" puts API Gateway's HTTP API in front of locate and
submit ($1.00 per million requests); "function-url" serves them from Lambda function URLs, which
have no per-request fee of their own (infra/api.py).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.functions import SPECS

PRICES_AS_OF = "2026-11 (AWS and Google public price pages; us-east-1, on-demand, arm64, no free tier)"
SECONDS_PER_MONTH = 730 * 3600
HOURS_PER_MONTH = 730
MILLION = 1_000_000
API_OPTIONS = ("http-api", "function-url")
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Prices:
    api_per_million: float = 1.00  # HTTP API, first 300 M requests a month (per 512 KB)
    api_per_million_above: float = 0.90
    api_tier_requests: float = 300 * MILLION
    function_url_per_million: float = 0.0  # function URLs: only the Lambda invocation is billed
    lambda_per_million: float = 0.20
    lambda_gb_second: float = 0.0000133334  # arm64
    snapstart_cache_gb_second: float = 0.0000015046
    dynamodb_read_unit: float = 0.125 / MILLION  # on-demand RRU (one eventually consistent ≤ 4 KB read = ½)
    dynamodb_write_unit: float = 0.625 / MILLION  # on-demand WRU
    dynamodb_gb_month: float = 0.25
    pitr_gb_month: float = 0.20
    sqs_per_million: float = 0.40
    s3_put_per_thousand: float = 0.005
    s3_ia_gb_month: float = 0.0125
    cloudfront_gb: float = 0.085
    cloudfront_https_per_10k: float = 0.0100  # North America / Europe
    cloudwatch_alarm: float = 0.10
    cloudwatch_dashboard: float = 3.00
    kms_key: float = 1.00
    xray_per_million_traces: float = 5.00
    valkey_gb_hour: float = 0.0837  # ElastiCache Serverless Valkey, 100 MB minimum
    valkey_per_million_ecpu: float = 0.0023
    interface_endpoint_hour: float = 0.01  # per endpoint and AZ
    google_geolocation_per_1000: float = 5.00  # list price of the first 100 000 a month
    ec2_m5_large_hour: float = 0.096  # the fixed-fleet comparison


@dataclass(frozen=True)
class Assumptions:
    """What the model cannot measure on this machine; stated in the docs next to the tables."""

    dynamodb_round_trip_ms: float = 8.0  # one BatchGetItem from Lambda in-region
    full_vcpu_mb: float = 1769.0  # Lambda gives one vCPU at 1 769 MB, proportionally less below
    submit_request_ms: float = 40.0  # parse + validate + one SQS SendMessageBatch, 100-report upload
    batch_get_keys: int = 100  # keys per BatchGetItem while aggregating
    vcpu_per_gb: float = 1 / 1.769  # Lambda gives one vCPU at 1 769 MB
    observations_per_day: float = 10 * MILLION  # the monthly table's submission load
    observations_per_submit: float = 50  # stumbler apps upload batches
    archive_bytes_per_observation: float = 300.0  # gzip JSON lines
    archive_months_kept: float = 12.0
    stations_gb: float = 20.0  # ~40 M stations
    cdn_gb: float = 100.0  # website, tiles, exports
    trace_rate: float = 0.05  # Lambda active tracing: 1 request/s plus 5 %
    alarms: int = 7
    redis_ecpu_per_request: float = 4.0  # key cache, daily counter, burst counter, per-IP counter
    fleet_instances: int = 25  # Mozilla Location Service: 20 web + 5 async workers


@dataclass(frozen=True)
class Measured:
    """Per-request inputs `make bench` measures (defaults: none measured yet)."""

    locate_cpu_ms: float = 2.0  # one phone query through the locate handler, on one full core
    keys_per_query: float = 23.3  # DynamoDB keys a phone query reads
    round_trips_per_query: float = 1.0  # DynamoDB round trips a phone query waits for
    aggregate_obs_per_s: float = 20_000.0  # per core, 1 000-observation batches
    storage_dollars_per_million_obs: float = 0.33  # DynamoDB/SQS/S3 requests of aggregation
    observations_per_request: float = 1_500.0  # per 100-report upload
    source: str = "defaults (no `make bench` run)"

    @classmethod
    def from_results(cls, results: dict[str, Any], name: str = "") -> Measured:
        """The inputs of a stored `make bench` run (missing sections keep the defaults)."""
        base = cls()
        accuracy = results.get("accuracy") or {}
        world = accuracy.get("world") or {}
        cpu_ms = base.locate_cpu_ms
        keys, trips = base.keys_per_query, base.round_trips_per_query
        reads = accuracy.get("reads")
        if reads:
            cpu_ms = reads.get("handler_cpu_ms") or cpu_ms
            kind = reads["phone_kind"]
            cached = reads["cached"][f"{reads['cost_model_rate']:g}"]
            keys = cached["keys_per_query"].get(kind, keys)
            trips = cached["round_trips_per_query"].get(kind, trips)
        elif world.get("keys_per_query"):
            keys = world["keys_per_query"]
        aggregation = results.get("aggregation") or {}
        rate = next(
            (r[2] for r in aggregation.get("throughput", []) if r[0] >= 1000), base.aggregate_obs_per_s
        )
        storage = next(
            (
                r["dollars_per_million"]
                for r in aggregation.get("write_cost", [])
                if "default" in str(r["policy"])
            ),
            base.storage_dollars_per_million_obs,
        )
        return cls(
            locate_cpu_ms=cpu_ms,
            keys_per_query=keys,
            round_trips_per_query=trips,
            aggregate_obs_per_s=rate,
            storage_dollars_per_million_obs=storage,
            observations_per_request=world.get("observations_per_upload") or base.observations_per_request,
            source=name
            or f"`make bench` run of {results.get('started', '?')} (commit {results.get('commit', '?')})",
        )


def api_requests(prices: Prices, requests: float, api: str = "http-api") -> float:
    """$ for `requests` API requests a month (HTTP API tiers; function URLs have no fee)."""
    if api == "function-url":
        return requests * prices.function_url_per_million / MILLION
    lower = min(requests, prices.api_tier_requests)
    upper = max(0.0, requests - prices.api_tier_requests)
    return (lower * prices.api_per_million + upper * prices.api_per_million_above) / MILLION


def locate_billed_ms(measured: Measured, assumptions: Assumptions | None = None) -> int:
    """Billed duration of one locate call at the deployed memory (module doc), in whole ms."""
    assumptions = assumptions or Assumptions()
    cpu_share = min(SPECS["locate"].memory_mb / assumptions.full_vcpu_mb, 1.0)
    io_ms = measured.round_trips_per_query * assumptions.dynamodb_round_trip_ms
    return math.ceil(measured.locate_cpu_ms / cpu_share + io_ms)


def locate_cost(
    measured: Measured,
    api: str = "http-api",
    prices: Prices | None = None,
    assumptions: Assumptions | None = None,
) -> dict[str, float]:
    """$ per million /v1/geolocate calls (first API Gateway tier), by line item and total."""
    prices, assumptions = prices or Prices(), assumptions or Assumptions()
    memory = SPECS["locate"].memory_gb
    parts = {
        "API Gateway (HTTP API)" if api == "http-api" else "function URL": api_requests(prices, MILLION, api),
        "Lambda requests": prices.lambda_per_million,
        "Lambda duration": memory
        * locate_billed_ms(measured, assumptions)
        / 1000
        * prices.lambda_gb_second
        * MILLION,
        "DynamoDB reads": measured.keys_per_query / 2 * prices.dynamodb_read_unit * MILLION,
    }
    parts["total"] = sum(parts.values())
    return parts


def observation_cost(
    measured: Measured, prices: Prices | None = None, assumptions: Assumptions | None = None
) -> dict[str, float]:
    """$ per million observations: submit path + aggregation compute + storage/queue requests."""
    prices, assumptions = prices or Prices(), assumptions or Assumptions()
    submit, aggregate = SPECS["submit"].memory_gb, SPECS["aggregate"].memory_gb
    requests = MILLION / measured.observations_per_request
    aggregate_seconds = MILLION / (measured.aggregate_obs_per_s * aggregate * assumptions.vcpu_per_gb)
    aggregate_seconds += MILLION / assumptions.batch_get_keys * assumptions.dynamodb_round_trip_ms / 1000
    parts = {
        "API Gateway (submit)": requests * prices.api_per_million / MILLION,
        "Lambda submit": requests
        * (
            prices.lambda_per_million / MILLION
            + submit * assumptions.submit_request_ms / 1000 * prices.lambda_gb_second
        ),
        "Lambda aggregate": aggregate_seconds * aggregate * prices.lambda_gb_second,
        "DynamoDB + SQS + S3 (measured requests)": measured.storage_dollars_per_million_obs,
    }
    parts["total"] = sum(parts.values())
    return parts


def fleet_monthly(prices: Prices | None = None, assumptions: Assumptions | None = None) -> float:
    prices, assumptions = prices or Prices(), assumptions or Assumptions()
    return assumptions.fleet_instances * prices.ec2_m5_large_hour * HOURS_PER_MONTH


def monthly_costs(
    locate_per_second: float,
    *,
    redis: bool,
    measured: Measured,
    api: str = "http-api",
    prices: Prices | None = None,
    assumptions: Assumptions | None = None,
) -> dict[str, float]:
    """Cost per line item (USD a month) at a steady locate rate plus the observation load."""
    prices, assumptions = prices or Prices(), assumptions or Assumptions()
    locate, submit = SPECS["locate"], SPECS["submit"]
    locates = locate_per_second * SECONDS_PER_MONTH
    observations = assumptions.observations_per_day * 730 / 24
    submits = observations / assumptions.observations_per_submit
    requests = locates + submits
    per_locate = locate_cost(measured, api, prices, assumptions)
    aggregation = observation_cost(measured, prices, assumptions)
    gb_seconds = submits * submit.memory_gb * assumptions.submit_request_ms / 1000
    traced = (
        min(requests, SECONDS_PER_MONTH * 2)
        + max(0.0, requests - SECONDS_PER_MONTH * 2) * assumptions.trace_rate
    )
    archive_gb = observations * assumptions.archive_bytes_per_observation / 1e9
    api_name = "API Gateway (HTTP API)" if api == "http-api" else "function URLs (no request fee)"
    snapstart = [spec for spec in (locate, submit) if spec.snap_start]
    costs = {
        api_name: api_requests(prices, requests, api),
        "Lambda locate (requests + GB-s)": locates
        / MILLION
        * (per_locate["Lambda requests"] + per_locate["Lambda duration"]),
        "Lambda submit + aggregate": submits * prices.lambda_per_million / MILLION
        + gb_seconds * prices.lambda_gb_second
        + observations / MILLION * aggregation["Lambda aggregate"],
        f"Lambda SnapStart cache ({len(snapstart)} × {locate.memory_mb} MB)": sum(
            spec.memory_gb for spec in snapstart
        )
        * SECONDS_PER_MONTH
        * prices.snapstart_cache_gb_second,
        "DynamoDB locate reads": locates / MILLION * per_locate["DynamoDB reads"],
        "DynamoDB + SQS + S3 aggregation": observations / MILLION * measured.storage_dollars_per_million_obs,
        "SQS submit messages (send/receive/delete)": submits * 3 * prices.sqs_per_million / MILLION,
        "DynamoDB storage + PITR": assumptions.stations_gb
        * (prices.dynamodb_gb_month + prices.pitr_gb_month),
        "S3 archive (a year kept, IA)": archive_gb * assumptions.archive_months_kept * prices.s3_ia_gb_month,
        "CloudFront (website, tiles, exports)": assumptions.cdn_gb * prices.cloudfront_gb,
        "X-Ray traces": traced * prices.xray_per_million_traces / MILLION,
        "CloudWatch alarms, dashboard, KMS": assumptions.alarms * prices.cloudwatch_alarm
        + prices.cloudwatch_dashboard
        + prices.kms_key,
    }
    if redis:
        costs["Valkey Serverless (0.1 GB minimum + ECPU)"] = (
            0.1 * HOURS_PER_MONTH * prices.valkey_gb_hour
            + requests * assumptions.redis_ecpu_per_request * prices.valkey_per_million_ecpu / MILLION
        )
        costs["VPC interface endpoints (SQS, X-Ray × 2 AZ)"] = (
            4 * HOURS_PER_MONTH * prices.interface_endpoint_hour
        )
    return costs


# The columns of the docs/deploy.md table: locate rate, Redis, API option.
COLUMNS: tuple[tuple[float, bool, str], ...] = (
    (0, False, "http-api"),
    (10, False, "http-api"),
    (100, False, "http-api"),
    (1000, False, "http-api"),
    (1000, True, "http-api"),
    (1000, True, "function-url"),
)


def monthly_table(
    measured: Measured, prices: Prices | None = None, assumptions: Assumptions | None = None
) -> str:
    """The docs/deploy.md table (markdown)."""
    per_column = [
        monthly_costs(rate, redis=redis, measured=measured, api=api, prices=prices, assumptions=assumptions)
        for rate, redis, api in COLUMNS
    ]
    items = list(dict.fromkeys(item for costs in per_column for item in costs))
    header = "| monthly USD | " + " | ".join(
        f"{rate:g} req/s{' + Redis' if redis else ''}{', function URLs' if api == 'function-url' else ''}"
        for rate, redis, api in COLUMNS
    )
    lines = [header + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for item in items:
        cells = " | ".join(f"{costs.get(item, 0.0):,.2f}" for costs in per_column)
        lines.append(f"| {item} | {cells} |")
    totals = " | ".join(f"**{sum(costs.values()):,.0f}**" for costs in per_column)
    lines.append(f"| **total** | {totals} |")
    return "\n".join(lines)


def per_call_table(
    measured: Measured, prices: Prices | None = None, assumptions: Assumptions | None = None
) -> str:
    """$ per million locate calls for each API option (markdown), the per-call model."""
    by_api = {api: locate_cost(measured, api, prices, assumptions) for api in API_OPTIONS}
    names = ["API (HTTP API / function URL)", "Lambda requests", "Lambda duration", "DynamoDB reads"]
    lines = ["| $ per million locate calls | HTTP API | function URLs |", "|---|---|---|"]
    for index, name in enumerate(names):
        values = [list(parts.values())[index] for parts in by_api.values()]
        lines.append(f"| {name} | {values[0]:.3f} | {values[1]:.3f} |")
    lines.append(
        f"| **total** | **{by_api['http-api']['total']:.2f}** | **{by_api['function-url']['total']:.2f}** |"
    )
    return "\n".join(lines)


def cost_summary(results: dict[str, Any], prices: Prices | None = None) -> dict[str, Any]:
    """The `cost` block of a `make bench` run: inputs, $ per million locate calls per API option,
    per million observations, and the comparisons."""
    prices = prices or Prices()
    measured = Measured.from_results(results)
    return {
        "inputs": {
            "locate_cpu_ms": measured.locate_cpu_ms,
            "locate_billed_ms": locate_billed_ms(measured),
            "locate_memory_mb": SPECS["locate"].memory_mb,
            "keys_per_query": measured.keys_per_query,
            "round_trips_per_query": measured.round_trips_per_query,
            "aggregate_obs_per_s": measured.aggregate_obs_per_s,
            "storage_dollars_per_million_obs": measured.storage_dollars_per_million_obs,
            "observations_per_request": measured.observations_per_request,
        },
        "locate_by_api": {api: locate_cost(measured, api, prices) for api in API_OPTIONS},
        "observations": observation_cost(measured, prices),
        "google_per_million": prices.google_geolocation_per_1000 * 1000,
        "fleet_monthly": fleet_monthly(prices),
    }


def newest_results(
    results_dir: Path = RESULTS, profile: str = "default"
) -> tuple[Path, dict[str, Any]] | None:
    runs = sorted(results_dir.glob(f"{profile}-*.json"))
    return (runs[-1], json.loads(runs[-1].read_text())) if runs else None


def measured_from(path: Path | None = None) -> Measured:
    """The measured inputs of a stored run (default: the newest `default` run), or the defaults."""
    if path is not None:
        return Measured.from_results(json.loads(path.read_text()), path.name)
    newest = newest_results()
    return Measured.from_results(newest[1], newest[0].name) if newest else Measured()


DEPLOY_START = "<!-- BEGIN GENERATED BY `make bench` (infra/costs.py): edits here are overwritten -->"
DEPLOY_END = "<!-- END GENERATED BY `make bench` (infra/costs.py) -->"


def deploy_region(measured: Measured, run: str) -> str:
    """The generated region of docs/deploy.md: both tables of the model fed with `run`'s inputs."""
    return "\n".join(
        [
            DEPLOY_START,
            "",
            f"From the `make bench` run `bench/results/{run}` "
            f"(`python -m infra.costs --results bench/results/{run}` prints the same): per locate call, "
            "then a month of a deployment.",
            "",
            per_call_table(measured),
            "",
            monthly_table(measured),
            "",
            DEPLOY_END,
        ]
    )


def write_deploy_doc(measured: Measured, run: str, path: Path = ROOT / "docs" / "deploy.md") -> None:
    """Replace the generated region of docs/deploy.md (between the markers)."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(DEPLOY_START, 1)
    _, tail = rest.split(DEPLOY_END, 1)
    path.write_text(head + deploy_region(measured, run) + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--results", type=Path, help="a stored `make bench` run (default: the newest)")
    args = parser.parse_args(argv)
    measured = measured_from(args.results)
    print(per_call_table(measured))
    print()
    print(monthly_table(measured))


if __name__ == "__main__":
    main()
