"""Ichnaea's station blocking rules (models/station.py `station_blocked`).

A station that was blocked (its observations moved it too far, or disagreed with each other) is
ignored for a while: temporarily for two days after its last block, and for good while it has
been blocked at least once per 30-day "month" of its age (so a young station with one block stays
blocked until it is about 45 days old).
"""

from __future__ import annotations

from datetime import date, timedelta

from openloc.model.records import StationRecord

TEMPORARY_BLOCK_DAYS = 2
DAYS_PER_MONTH = 30


def station_blocked(station: StationRecord, today: date) -> bool:
    """Whether `station` is blocked on `today` (observations ignored, excluded from locate)."""
    if station.block_count <= 0:
        return False
    if station.block_last is not None:
        block_last = date.fromisoformat(station.block_last)
        if today - block_last < timedelta(days=TEMPORARY_BLOCK_DAYS):
            return True
    age_days = (today - station.created.date()).days if station.created is not None else 0
    # Python's round (half to even), as Ichnaea's round(age.days / 30).
    return station.block_count >= round(age_days / DAYS_PER_MONTH)
