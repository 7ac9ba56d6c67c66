"""Which stations are published, and in what form (hashed identifier, rounded position)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from openloc.model.identifiers import station_digest, station_id
from openloc.model.kinds import StationKind
from openloc.model.records import StationRecord
from openloc.publish.policy import PublishPolicy, published_station

START = datetime(2026, 10, 1, tzinfo=UTC)


TODAY = date(2026, 11, 23)


POLICY = PublishPolicy(min_samples=5, min_days=7)


MAC = "00163e000001"


def station(**overrides: object) -> StationRecord:
    base = StationRecord(
        key=f"wifi#{MAC}", lat=52.52194, lon=13.41326, radius=43.0, region="DE", samples=50,
        created=START, last_seen="2026-11-20", name_hash=station_digest(StationKind.WIFI, MAC, "home"), name_votes=9,
    )  # fmt: skip
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_published_form_is_hashed_and_rounded() -> None:
    published = published_station(station(), TODAY, POLICY)
    assert published is not None
    assert published.station_id == station_id(StationKind.WIFI, MAC, "home")
    assert (published.lat, published.lon, published.radius) == (52.522, 13.413, 50)
    assert MAC not in repr(published)


@pytest.mark.parametrize(
    ("reason", "overrides"),
    [
        ("no position", {"lat": None, "lon": None}),
        ("hidden or empty SSID", {"name_hash": None}),
        ("opted out", {"optout_last": "2026-11-01"}),
        ("too few samples", {"samples": 4}),
        ("too short a history", {"created": datetime(2026, 11, 15, tzinfo=UTC)}),
        ("locally administered MAC", {"key": "wifi#02163e000001"}),
        ("multicast MAC", {"key": "wifi#01163e000001"}),
        ("blocked", {"block_count": 3, "block_last": "2026-11-22"}),
        ("a cell", {"key": "cell#lte#262#01#4711#1"}),
    ],
)
def test_excluded_stations(reason: str, overrides: dict[str, object]) -> None:
    assert published_station(station(), TODAY, POLICY) is not None
    assert published_station(station(**overrides), TODAY, POLICY) is None, reason
