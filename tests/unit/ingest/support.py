"""In-memory pipeline stores and reports of two Wi-Fi networks (pipeline, station_writes)."""

from __future__ import annotations

from datetime import UTC, datetime

from openloc.ingest.pipeline import PipelineStores
from openloc.model.report import Report, WifiObservation
from openloc.store.archive import MemoryArchive
from openloc.store.coverage import MemoryCoverageStore
from openloc.store.processed import MemoryProcessedMessages
from openloc.store.stations import MemoryStationStore

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


WIFIS = (WifiObservation(mac="001a2b000001"), WifiObservation(mac="001a2b000002"))


def _report(lat: float = 52.5, lon: float = 13.4, **kw: object) -> Report:
    return Report(timestamp=1, latitude=lat, longitude=lon, accuracy=10.0, **kw)


class Stores(PipelineStores):
    stations: MemoryStationStore
    archive: MemoryArchive
    processed: MemoryProcessedMessages
    coverage: MemoryCoverageStore


def _stores(stations: MemoryStationStore | None = None) -> Stores:
    return Stores(
        stations or MemoryStationStore(), MemoryArchive(), MemoryProcessedMessages(), MemoryCoverageStore()
    )
