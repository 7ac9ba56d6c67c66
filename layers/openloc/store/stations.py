"""Station and cell-area access: the `StationStore` interface, DynamoDB and in-memory implementations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from openloc.store.records import StationRecord

if TYPE_CHECKING:
    from openloc.settings import Settings
    from openloc.store.models import StationModel

_STATION_FIELDS = [
    f.name for f in fields(StationRecord) if f.name not in {"key", "num_cells", "avg_cell_radius"}
]
_AREA_FIELDS = ["lat", "lon", "radius", "avg_cell_radius", "num_cells", "region", "modified"]
_INT_FIELDS = {"samples", "block_count", "version", "num_cells", "psc"}


class StationStore(Protocol):
    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]: ...

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]: ...

    def put_stations(self, records: Iterable[StationRecord]) -> None: ...

    def put_areas(self, records: Iterable[StationRecord]) -> None: ...


def _from_item(key: str, item: Any, names: Iterable[str]) -> StationRecord:
    values: dict[str, Any] = {}
    for name in names:
        value = getattr(item, name, None)
        if value is None:
            continue
        values[name] = int(value) if name in _INT_FIELDS else value
    return StationRecord(key=key, **values)


def station_from_item(item: StationModel) -> StationRecord:
    return _from_item(item.pk, item, _STATION_FIELDS)


def bound_models(settings: Settings | None) -> ModuleType:
    """The pynamodb models, imported and bound to the configured tables on first use.

    pynamodb (and botocore) cost ~100 ms of import: the API handlers pay it on the first request
    or, with SnapStart, in the before-snapshot hook (`warm`), never at plain import.
    """
    from openloc.settings import get_settings
    from openloc.store import models

    models.bind_models(settings or get_settings())
    return models


class DynamoStationStore:
    """Stations and areas in DynamoDB; reads are one BatchGetItem round per 100 keys."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._models: ModuleType | None = None

    @property
    def models(self) -> ModuleType:
        if self._models is None:
            self._models = bound_models(self._settings)
        return self._models

    def warm(self) -> None:
        """Import, bind and connect ahead of the first request (SnapStart before-snapshot hook)."""
        self.models.StationModel._get_connection().connection.client  # noqa: B018

    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        if not keys:
            return {}
        return {
            item.pk: _from_item(item.pk, item, _STATION_FIELDS)
            for item in self.models.StationModel.batch_get(list(keys))
        }

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        if not keys:
            return {}
        return {
            item.pk: _from_item(item.pk, item, _AREA_FIELDS)
            for item in self.models.CellAreaModel.batch_get(list(keys))
        }

    def put_stations(self, records: Iterable[StationRecord]) -> None:
        with self.models.StationModel.batch_write() as batch:
            for record in records:
                batch.save(
                    self.models.StationModel(record.key, **{n: getattr(record, n) for n in _STATION_FIELDS})
                )

    def put_areas(self, records: Iterable[StationRecord]) -> None:
        with self.models.CellAreaModel.batch_write() as batch:
            for record in records:
                batch.save(
                    self.models.CellAreaModel(record.key, **{n: getattr(record, n) for n in _AREA_FIELDS})
                )


class MemoryStationStore:
    """In-memory twin for unit tests and benchmarks."""

    def __init__(self) -> None:
        self.stations: dict[str, StationRecord] = {}
        self.areas: dict[str, StationRecord] = {}
        self.batch_gets = 0

    def get_stations(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        self.batch_gets += 1
        return {k: replace(self.stations[k]) for k in keys if k in self.stations}

    def get_areas(self, keys: Sequence[str]) -> dict[str, StationRecord]:
        self.batch_gets += 1
        return {k: replace(self.areas[k]) for k in keys if k in self.areas}

    def put_stations(self, records: Iterable[StationRecord]) -> None:
        for record in records:
            self.stations[record.key] = replace(record)

    def put_areas(self, records: Iterable[StationRecord]) -> None:
        for record in records:
            self.areas[record.key] = replace(record)
