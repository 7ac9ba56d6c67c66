"""Observation weights: accuracy, age, speed and signal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.aggregate.weights import (
    accuracy_weight,
    age_weight,
    cell_signal_weight,
    speed_weight,
    wifi_signal_weight,
)
from openloc.model.kinds import Radio


@pytest.mark.parametrize("kind", ["wifi", "blue", "cell"])
@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6))
def test_accuracy_weight_monotone_non_increasing(kind: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert accuracy_weight(low, kind) >= accuracy_weight(high, kind)
    assert 0 <= accuracy_weight(high, kind) <= 1


def test_accuracy_weight_values() -> None:
    assert accuracy_weight(None, "wifi") == 1.0
    assert accuracy_weight(5, "wifi") == 1.0
    assert accuracy_weight(40, "wifi") == pytest.approx(0.5)
    assert accuracy_weight(201, "wifi") == 0.0
    assert accuracy_weight(101, "blue") == 0.0
    assert accuracy_weight(1000, "cell") > 0
    assert accuracy_weight(1001, "cell") == 0.0


@given(a=st.integers(-(10**6), 10**6), b=st.integers(-(10**6), 10**6))
def test_age_weight_monotone_in_abs_age(a: int, b: int) -> None:
    low, high = sorted((abs(a), abs(b)))
    assert age_weight(low) >= age_weight(high)
    assert age_weight(a) == age_weight(-a)


def test_age_and_speed_weights() -> None:
    assert age_weight(None) == 1.0
    assert age_weight(20_001) == 0.0
    assert speed_weight(None) == 1.0
    assert speed_weight(5) == 1.0
    assert speed_weight(20) == pytest.approx(0.5)
    assert speed_weight(51) == 0.0


def test_signal_weights() -> None:
    assert wifi_signal_weight(None) == wifi_signal_weight(-80) == 1.0
    assert wifi_signal_weight(-50) > wifi_signal_weight(-90)
    for radio in Radio:
        assert cell_signal_weight(radio, None) == pytest.approx(1.0)
    assert cell_signal_weight(Radio.LTE, -70) > cell_signal_weight(Radio.LTE, -120)
