"""The aggregation pipeline over in-memory stores: idempotent redelivery, optimistic concurrency,
cell areas, blocking, the coverage grid, daily counters and the rate-control policy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from openloc.aggregate.station_update import Change, UpdatePolicy
from openloc.ingest.pipeline import PipelineStores, process_reports
from openloc.ingest.station_writes import ConflictError
from openloc.model.kinds import Radio
from openloc.model.records import StationRecord
from openloc.model.report import CellObservation, Report, WifiObservation
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


def test_redelivered_message_changes_nothing() -> None:
    stores = _stores()
    first = process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-1")
    before = dict(stores.stations.stations)
    writes = stores.stations.write_requests
    again = process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-1")
    assert first.stations_written == 2 and again.duplicate and again.stations_written == 0
    assert stores.stations.stations == before and stores.stations.write_requests == writes


class FailingCoverage(MemoryCoverageStore):
    """Fails once after the stations were written: the message is redelivered."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def touch_grids(self, cells: Iterable[tuple[str, str]], today: str) -> int:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("throttled")
        return super().touch_grids(cells, today)


def test_redelivery_after_a_partial_failure_does_not_merge_twice() -> None:
    stores = _stores()
    stores.coverage = FailingCoverage()
    with pytest.raises(RuntimeError):
        process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-1")
    assert stores.stations.stations["wifi#001a2b000001"].samples == 1  # written before the failure
    result = process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-1")
    assert result.changes["already_applied"] == 2
    assert stores.stations.stations["wifi#001a2b000001"].samples == 1
    assert stores.processed.seen("m-1")


class RacingStore(MemoryStationStore):
    """Another aggregator updates the station between this one's read and write."""

    def __init__(self) -> None:
        super().__init__()
        self.races = 2

    def put_station_if(self, record: StationRecord, expected_version: int | None) -> bool:
        current = self.stations.get(record.key)
        if self.races and current is not None:
            self.races -= 1
            self.stations[record.key] = replace(
                current, samples=current.samples + 10, version=current.version + 1
            )
        return super().put_station_if(record, expected_version)


def test_concurrent_update_is_reapplied_not_lost() -> None:
    racing = RacingStore()
    stores = _stores(racing)
    process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-1")
    process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-2")
    # each station: 1 (m-1) + 10 (the other writer) + 1 (m-2, re-applied on the fresh version)
    assert sorted(s.samples for s in racing.stations.values()) == [12, 12]
    assert racing.races == 0


class AlwaysRacing(MemoryStationStore):
    def put_station_if(self, record: StationRecord, expected_version: int | None) -> bool:
        self.write_requests += 1
        return False


def test_endless_conflicts_fail_the_message_for_redelivery() -> None:
    with pytest.raises(ConflictError):
        process_reports([_report(wifi=WIFIS)], _stores(AlwaysRacing()), NOW, message_id="m-1")


def _cell(cid: int, lat: float) -> Report:
    cell = CellObservation(radio=Radio.LTE, mcc=262, mnc="01", lac=4711, cid=cid, signal=-90)
    return _report(lat=lat, cells=(cell,))


def test_cell_area_follows_its_cells() -> None:
    stores = _stores()
    process_reports([_cell(1, 52.50), _cell(2, 52.52)], stores, NOW, message_id="m-1")
    area = stores.stations.areas["area#lte#262#01#4711"]
    assert area.num_cells == 2
    assert area.lat == pytest.approx(52.51)
    assert area.region == "DE"
    # a cell seen 500 km away is blocked and leaves the area
    process_reports([_cell(2, 57.0)], stores, NOW, message_id="m-2")
    assert stores.stations.stations["cell#lte#262#01#4711#2"].lat is None
    assert stores.stations.areas["area#lte#262#01#4711"].num_cells == 1


def test_moved_access_point_is_blocked_and_region_is_set() -> None:
    stores = _stores()
    process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-1")
    assert stores.stations.stations["wifi#001a2b000001"].region == "DE"
    result = process_reports([_report(lat=52.6, wifi=WIFIS)], stores, NOW, message_id="m-2")  # ~11 km
    assert result.changes[Change.BLOCK] == 2
    blocked = stores.stations.stations["wifi#001a2b000001"]
    assert blocked.lat is None and blocked.block_count == 1
    # while blocked, observations are ignored
    ignored = process_reports(
        [_report(lat=52.6, wifi=WIFIS)], stores, NOW + timedelta(hours=1), message_id="m-3"
    )
    assert ignored.changes[Change.BLOCKED] == 2 and ignored.stations_written == 0


def test_coverage_grid_and_daily_counters() -> None:
    stores = _stores()
    process_reports([_report(wifi=WIFIS), _report(lat=52.5001, wifi=WIFIS)], stores, NOW, message_id="m-1")
    assert stores.coverage.grids == {("ne", "52500,13400"): "2026-11-23"}
    assert stores.coverage.stats[("reports", "2026-11-23")] == 2
    assert stores.coverage.stats[("observations", "2026-11-23")] == 4
    assert stores.coverage.stats[("new_wifi", "2026-11-23")] == 2
    assert stores.coverage.stats[("station_new", "2026-11-23")] == 2
    writes = stores.coverage.write_requests
    process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-2")
    assert stores.coverage.grids == {("ne", "52500,13400"): "2026-11-23"}
    assert stores.coverage.write_requests == writes + 3  # grid already touched today: only counters


def test_well_established_stations_are_not_rewritten() -> None:
    stores = _stores()
    policy = UpdatePolicy(settle_samples=2, settle_seconds=86_400)
    for i in range(2):
        process_reports([_report(wifi=WIFIS)], stores, NOW, message_id=f"m-{i}", policy=policy)
    writes = stores.stations.write_requests
    result = process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-9", policy=policy)
    assert result.changes[Change.SETTLED] == 2 and stores.stations.write_requests == writes
    # next day: one confirmation write per station (last_seen), still no merge
    later = process_reports(
        [_report(wifi=WIFIS)], stores, NOW + timedelta(hours=20), message_id="m-10", policy=policy
    )
    assert later.changes[Change.CONFIRM] == 2
