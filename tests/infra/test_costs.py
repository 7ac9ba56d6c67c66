"""The one cost model (infra/costs.py): its arithmetic, and that the docs show what it computes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.costs import (
    DEPLOY_END,
    DEPLOY_START,
    MILLION,
    Measured,
    Prices,
    api_requests,
    deploy_region,
    locate_billed_ms,
    locate_cost,
    measured_from,
    monthly_costs,
)
from infra.functions import SPECS

ROOT = Path(__file__).resolve().parents[2]


def test_api_gateway_tiers_above_300_million_and_function_urls_have_no_fee() -> None:
    prices = Prices()
    assert api_requests(prices, 100 * MILLION) == pytest.approx(100.0)
    assert api_requests(prices, 400 * MILLION) == pytest.approx(300.0 + 90.0)
    assert api_requests(prices, 400 * MILLION, "function-url") == 0.0


def test_a_locate_call_is_priced_at_the_deployed_memory() -> None:
    measured = Measured(locate_cpu_ms=1.0, keys_per_query=4.0, round_trips_per_query=1.0)
    share = SPECS["locate"].memory_mb / 1769
    assert locate_billed_ms(measured) == pytest.approx(-(-(1.0 / share + 8.0) // 1))
    parts = locate_cost(measured, "http-api")
    assert parts["DynamoDB reads"] == pytest.approx(4.0 / 2 * 0.125)  # ½ RRU per key
    expected_duration = (
        SPECS["locate"].memory_gb * locate_billed_ms(measured) / 1000 * Prices().lambda_gb_second * 1e6
    )
    assert parts["Lambda duration"] == pytest.approx(expected_duration)
    without_api = locate_cost(measured, "function-url")
    assert parts["total"] - without_api["total"] == pytest.approx(1.00)


def test_locate_costs_grow_linearly_and_redis_adds_fixed_items() -> None:
    measured = Measured()
    idle = monthly_costs(0, redis=False, measured=measured)
    busy = monthly_costs(100, redis=False, measured=measured)
    busier = monthly_costs(200, redis=False, measured=measured)
    reads = "DynamoDB locate reads"
    assert idle[reads] == 0
    assert busier[reads] == pytest.approx(2 * busy[reads])
    with_redis = monthly_costs(100, redis=True, measured=measured)
    assert set(with_redis) - set(busy) == {
        "Valkey Serverless (0.1 GB minimum + ECPU)",
        "VPC interface endpoints (SQS, X-Ray × 2 AZ)",
    }
    urls = monthly_costs(100, redis=False, measured=measured, api="function-url")
    assert urls["function URLs (no request fee)"] == 0.0


def _generated(doc: str) -> tuple[str, str]:
    region = DEPLOY_START + doc.split(DEPLOY_START, 1)[1].split(DEPLOY_END, 1)[0] + DEPLOY_END
    match = re.search(r"`bench/results/([^`]+\.json)`", region)
    assert match, "the generated region names the run it comes from"
    return region, match.group(1)


def test_deploy_doc_shows_the_model_fed_with_the_run_it_names() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    region, run = _generated(doc)
    path = ROOT / "bench" / "results" / run
    assert region == deploy_region(measured_from(path), run)


def test_benchmarks_doc_prices_calls_from_the_same_run() -> None:
    benchmarks = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    _, run = _generated((ROOT / "docs" / "deploy.md").read_text(encoding="utf-8"))
    measured = measured_from(ROOT / "bench" / "results" / run)
    for api in ("http-api", "function-url"):
        total = locate_cost(measured, api)["total"]
        assert f"**{total:.2f}**" in benchmarks
