"""Blocking rules (Ichnaea data/station.py): temporary and long-term blocks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from openloc.aggregate.blocking import TEMPORARY_BLOCK_DAYS, station_blocked
from openloc.model.records import StationRecord

from tests.unit.aggregate.support import NOW, TODAY, WIFI, positioned


def blocked_record(block_count: int, block_last_days_ago: int | None, age_days: int | None) -> StationRecord:
    return StationRecord(
        key=WIFI,
        block_count=block_count,
        block_last=None
        if block_last_days_ago is None
        else (TODAY - timedelta(days=block_last_days_ago)).isoformat(),
        created=None if age_days is None else NOW - timedelta(days=age_days),
    )


def test_never_blocked_station_is_not_blocked() -> None:
    assert not station_blocked(StationRecord(key=WIFI), TODAY)
    assert not station_blocked(positioned(), TODAY)
    # block_count 0 means not blocked, whatever block_last says.
    assert not station_blocked(blocked_record(0, 0, 0), TODAY)


def test_temporary_block_expires_after_two_days() -> None:
    assert TEMPORARY_BLOCK_DAYS == 2
    # Old station (600 days ≈ 20 months), one block: only the temporary rule applies.
    assert station_blocked(blocked_record(1, 0, 600), TODAY)
    assert station_blocked(blocked_record(1, 1, 600), TODAY)
    assert not station_blocked(blocked_record(1, 2, 600), TODAY)
    assert not station_blocked(blocked_record(1, 30, 600), TODAY)


@pytest.mark.parametrize(
    ("block_count", "last_blocked_age", "first_free_age"),
    [
        # blocked while block_count >= round(age_days / 30); Python rounds half to even, as Ichnaea
        (1, 44, 45),  # round(44/30) = 1, round(45/30) = 2
        (3, 104, 105),  # round(104/30) = 3, round(105/30) = 4
        (6, 195, 196),  # round(195/30) = round(6.5) = 6, round(196/30) = 7
    ],
)
def test_long_term_block_at_its_boundary(
    block_count: int, last_blocked_age: int, first_free_age: int
) -> None:
    assert station_blocked(blocked_record(block_count, 10, last_blocked_age), TODAY)
    assert not station_blocked(blocked_record(block_count, 10, first_free_age), TODAY)
    assert not station_blocked(blocked_record(block_count - 1, 10, last_blocked_age), TODAY)


def test_young_station_with_one_block_stays_blocked() -> None:
    for age in (0, 3, 14, 15, 16, 30, 44):
        assert station_blocked(blocked_record(1, 10, age), TODAY), age


def test_unknown_created_counts_as_age_zero() -> None:
    assert station_blocked(blocked_record(1, 10, None), TODAY)
    assert station_blocked(blocked_record(1, None, None), TODAY)
    assert not station_blocked(blocked_record(1, None, 600), TODAY)
