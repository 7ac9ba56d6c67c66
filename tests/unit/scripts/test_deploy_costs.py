"""The deployment cost model behind docs/deploy.md."""

from __future__ import annotations

import pytest

from scripts.deploy_costs import MILLION, Prices, Usage, api_requests, monthly_costs, table


def test_api_gateway_tiers_above_300_million() -> None:
    prices = Prices()
    assert api_requests(prices, 100 * MILLION) == pytest.approx(100.0)
    assert api_requests(prices, 400 * MILLION) == pytest.approx(300.0 + 90.0)


def test_locate_costs_grow_linearly_and_redis_adds_fixed_items() -> None:
    prices, usage = Prices(), Usage()
    idle = monthly_costs(0, redis=False, prices=prices, usage=usage)
    busy = monthly_costs(100, redis=False, prices=prices, usage=usage)
    busier = monthly_costs(200, redis=False, prices=prices, usage=usage)
    reads = "DynamoDB locate reads"
    assert idle[reads] == 0
    assert busier[reads] == pytest.approx(2 * busy[reads])
    with_redis = monthly_costs(100, redis=True, prices=prices, usage=usage)
    assert set(with_redis) - set(busy) == {
        "Valkey Serverless (0.1 GB minimum + ECPU)",
        "VPC interface endpoints (SQS, X-Ray × 2 AZ)",
    }


def test_docs_table_matches_the_model() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert table((0, 10, 100, 1000), prices=Prices(), usage=Usage()) in doc
