"""Full-table reads for the publishing jobs (never on a request path: DESIGN.md §3).

A Scan reads every item of the table once (paginated by pynamodb); the filters run server-side
but are still billed for every item read.
"""

from __future__ import annotations

from collections.abc import Iterator

from openloc.store.models import CellAreaModel, StationModel
from openloc.store.records import StationRecord
from openloc.store.stations import _AREA_FIELDS, _from_item, station_from_item


def scan_stations(prefixes: tuple[str, ...] = ("wifi#", "blue#", "cell#")) -> Iterator[StationRecord]:
    """Stations whose key starts with one of `prefixes` (alias items `hash#…` are skipped)."""
    condition = None
    for prefix in prefixes:
        clause = StationModel.pk.startswith(prefix)
        condition = clause if condition is None else condition | clause
    for item in StationModel.scan(condition):
        yield station_from_item(item)


def scan_areas() -> Iterator[StationRecord]:
    for item in CellAreaModel.scan():
        yield _from_item(item.pk, item, _AREA_FIELDS)
