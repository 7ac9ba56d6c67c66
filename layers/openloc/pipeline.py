"""The aggregation pipeline: one SQS message of reports → archive → stations.

Archive first (so every accepted report is replayable even if the station update fails), then
group the reports' observations by station, load all touched stations in one BatchGetItem round,
merge, and write each changed station once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from openloc.aggregate.grouping import group_by_station
from openloc.aggregate.report import Report
from openloc.aggregate.station_update import update_station
from openloc.store.archive import Archive
from openloc.store.stations import StationStore

_REPORTS = TypeAdapter(list[Report])


class PoisonMessage(ValueError):
    """A message body that can never be processed (not the queue's JSON shape)."""


def parse_message(body: str) -> list[Report]:
    try:
        payload: Any = json.loads(body)
        return _REPORTS.validate_python(payload["reports"])
    except (ValueError, KeyError, TypeError) as error:
        raise PoisonMessage(str(error)) from error


@dataclass(frozen=True)
class BatchResult:
    reports: int
    observations: int
    stations_written: int
    archive_key: str


def process_reports(
    reports: list[Report], stations: StationStore, archive: Archive, now: datetime, name: str | None = None
) -> BatchResult:
    """Archive and aggregate one batch of reports; idempotent archive name when `name` is given."""
    key = archive.put([r.model_dump(mode="json", exclude_none=True) for r in reports], now, name)
    grouped = group_by_station(reports)
    existing = stations.get_stations(sorted(grouped))
    changed = []
    for station_key, observations in grouped.items():
        updated = update_station(station_key, existing.get(station_key), observations, now)
        if updated is not None:
            changed.append(updated)
    if changed:
        stations.put_stations(changed)
    return BatchResult(
        reports=len(reports),
        observations=sum(len(o) for o in grouped.values()),
        stations_written=len(changed),
        archive_key=key,
    )
