"""Writing stations through the pipeline: lost races, no double merge after a partial failure,
regions, cell areas and the name vote with its alias items."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from openloc.aggregate.station_update import Change
from openloc.ingest.pipeline import process_reports
from openloc.ingest.station_writes import ConflictError
from openloc.model.identifiers import station_digest
from openloc.model.kinds import Radio, StationKind
from openloc.model.records import StationRecord
from openloc.model.report import CellObservation, Report
from openloc.store.coverage import MemoryCoverageStore
from openloc.store.stations import MemoryStationStore

from tests.unit.ingest.support import NOW, WIFIS, _report, _stores
from tests.unit.small_world import build_world, memory_stores, observe


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


# --- name votes and aliases -----------------------------------------------------------------------


START = datetime(2026, 10, 1, tzinfo=UTC)


def test_name_vote_follows_the_majority_ssid() -> None:
    stores = memory_stores()
    world = build_world(wifis=1, blues=0)
    observe(world, stores, START, days=2, per_day=60, seed=1)
    assert isinstance(stores.stations, MemoryStationStore)
    record = stores.stations.stations["wifi#00163e000000"]
    assert record.name_hash == station_digest(StationKind.WIFI, "00163e000000", "net-0")
    alias = stores.stations.stations[f"hash#wifi#{record.name_hash}"]
    assert alias.alias_of == "wifi#00163e000000" and alias.lat is None
    # Renamed for good: the new name outvotes the old one and the alias moves with it.
    renamed = [replace(n, name="renamed") for n in world]
    observe(renamed, stores, START + timedelta(days=2), days=4, per_day=60, seed=2)
    record = stores.stations.stations["wifi#00163e000000"]
    assert record.name_hash == station_digest(StationKind.WIFI, "00163e000000", "renamed")
    assert (
        f"hash#wifi#{station_digest(StationKind.WIFI, '00163e000000', 'net-0')}"
        not in stores.stations.stations
    )
