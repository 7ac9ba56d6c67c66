"""Observation weights (Ichnaea's documented formulas, models/observation.py).

weight = accuracy_weight × age_weight × speed_weight × signal_weight; 0 means "discard".
"""

from __future__ import annotations

import math

from openloc.model.kinds import Radio

MAX_ACCURACY_M = {"wifi": 200.0, "blue": 100.0, "cell": 1000.0}
MIN_ACCURACY_M = 10.0
MIN_AGE_MS, MAX_AGE_MS = 2_000, 20_000
MIN_SPEED, MAX_SPEED = 1.0, 50.0

# (default signal dBm, offset) per radio: weight 1.0 at the default signal.
CELL_SIGNAL = {Radio.GSM: (-95, -5), Radio.WCDMA: (-100, 0), Radio.LTE: (-105, 5), Radio.NR: (-105, 5)}


def accuracy_weight(accuracy: float | None, kind: str) -> float:
    acc = max(abs(accuracy) if accuracy else MIN_ACCURACY_M, MIN_ACCURACY_M)
    if acc > MAX_ACCURACY_M[kind]:
        return 0.0
    return math.sqrt(MIN_ACCURACY_M / acc)


def age_weight(age_ms: int | None) -> float:
    age = max(abs(age_ms) if age_ms else MIN_AGE_MS, MIN_AGE_MS)
    if age > MAX_AGE_MS:
        return 0.0
    return min(math.sqrt(MIN_AGE_MS / age), 1.0)


def speed_weight(speed: float | None) -> float:
    value = max(abs(speed) if speed else MIN_SPEED, MIN_SPEED)
    if value > MAX_SPEED:
        return 0.0
    return min(math.sqrt(5.0 / value), 1.0)


def wifi_signal_weight(signal: int | None) -> float:
    value = signal if signal is not None else -80
    return float((10_000 / (value - 20) ** 2) ** 2)


def cell_signal_weight(radio: Radio, signal: int | None) -> float:
    default, offset = CELL_SIGNAL[radio]
    value = signal if signal is not None else default
    if value + offset == 0:
        return 1.0
    return float((10_000 / (value + offset) ** 2) ** 2)
