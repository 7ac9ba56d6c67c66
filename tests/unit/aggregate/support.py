"""Stations in every state the updater distinguishes, around one point (station_update, blocking)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from openloc.aggregate.station_update import (
    StationUpdate,
)
from openloc.model.kinds import StationKind
from openloc.model.records import StationRecord

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


TODAY = NOW.date()


LAT, LON = 52.5, 13.4


KEYS = {
    StationKind.WIFI: "wifi#001a2b000001",
    StationKind.BLUE: "blue#c0ffee000001",
    StationKind.CELL: "cell#lte#262#01#1#2",
}


WIFI = KEYS[StationKind.WIFI]


def positioned(key: str = WIFI, **changes: object) -> StationRecord:
    """A station at (LAT, LON), created 400 days ago, last modified 10 days ago, never blocked."""
    station = StationRecord(
        key=key,
        lat=LAT,
        lon=LON,
        min_lat=LAT - 0.0001,
        max_lat=LAT + 0.0001,
        min_lon=LON - 0.0001,
        max_lon=LON + 0.0001,
        radius=12.0,
        region="DE",
        samples=10,
        weight=10.0,
        psc=7,
        created=NOW - timedelta(days=400),
        modified=NOW - timedelta(days=10),
        last_seen=(TODAY - timedelta(days=10)).isoformat(),
        version=5,
    )
    return replace(station, **changes)  # type: ignore[arg-type]


def unpositioned(**changes: object) -> StationRecord:
    """A formerly blocked station whose blocks have expired (one block, 300 days old)."""
    station = StationRecord(
        key=WIFI,
        region="DE",
        created=NOW - timedelta(days=300),
        modified=NOW - timedelta(days=20),
        block_first=(TODAY - timedelta(days=20)).isoformat(),
        block_last=(TODAY - timedelta(days=20)).isoformat(),
        block_count=1,
        version=4,
    )
    return replace(station, **changes)  # type: ignore[arg-type]


def written(update: StationUpdate) -> StationRecord:
    assert update.record is not None
    return update.record
