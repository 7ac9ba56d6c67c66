"""The aggregation pipeline over in-memory stores: message parsing, the archive (and what it never
holds), idempotent redelivery, the coverage grid, daily counters and the rate-control policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openloc.aggregate.station_update import (
    Change,
    UpdatePolicy,
)
from openloc.api.schemas import GeosubmitRequest
from openloc.api.submissions import ReportBuilder, SubmitLimits, from_geosubmit_v2
from openloc.ingest.demo_seed import CENTER
from openloc.ingest.pipeline import PoisonMessage, parse_message, process_reports
from openloc.model.report import WifiObservation
from openloc.store.archive import MemoryArchive, decode_jsonl_gz
from openloc.store.stations import MemoryStationStore

from tests.unit.ingest.support import NOW, WIFIS, _report, _stores
from tests.unit.small_world import memory_stores
from tests.unit.support import report


def test_parse_message() -> None:
    body = json.dumps(
        {"reports": [report(wifi=(WifiObservation(mac="001a2b000001"),)).model_dump(mode="json")]}
    )
    (parsed,) = parse_message(body)
    assert parsed.wifi[0].mac == "001a2b000001"
    for bad in ["not json", "[]", '"x"', "{}", '{"reports": [{"latitude": "x"}]}', '{"reports": 5}']:
        with pytest.raises(PoisonMessage):
            parse_message(bad)


def test_process_reports_archives_then_aggregates() -> None:
    stores = _stores()
    wifis = (WifiObservation(mac="001a2b000001"), WifiObservation(mac="001a2b000002"))
    reports = [report(wifi=wifis), report(latitude=52.5001, wifi=wifis)]
    result = process_reports(reports, stores, NOW, message_id="batch-1")
    assert result.reports == 2 and result.observations == 4 and result.stations_written == 2
    assert result.archive_key == "observations/2026/11/23/12/batch-1.jsonl.gz"
    archive = stores.archive
    assert isinstance(archive, MemoryArchive)
    archived = decode_jsonl_gz(archive.objects[result.archive_key])
    assert archived == [r.model_dump(mode="json", exclude_none=True) for r in reports]
    stations = stores.stations
    assert isinstance(stations, MemoryStationStore)
    station = stations.stations["wifi#001a2b000001"]
    assert station.samples == 2 and station.lat == pytest.approx(52.50005)
    # A second message updates the stored station.
    again = process_reports([report(latitude=52.5002, wifi=wifis)], stores, NOW, message_id="batch-2")
    assert again.stations_written == 2 and stations.stations["wifi#001a2b000001"].samples == 3
    assert len(archive.objects) == 2


def test_process_reports_with_nothing_usable_still_archives() -> None:
    stores = _stores()
    result = process_reports([report(speed=100, wifi=(WifiObservation(mac="001a2b000001"),))], stores, NOW)
    assert isinstance(stores.stations, MemoryStationStore) and isinstance(stores.archive, MemoryArchive)
    assert result.stations_written == 0 and stores.stations.stations == {}
    assert result.archive_key in stores.archive.objects


def test_redelivered_message_changes_nothing() -> None:
    stores = _stores()
    first = process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-1")
    before = dict(stores.stations.stations)
    writes = stores.stations.write_requests
    again = process_reports([_report(wifi=WIFIS)], stores, NOW, message_id="m-1")
    assert first.stations_written == 2 and again.duplicate and again.stations_written == 0
    assert stores.stations.stations == before and stores.stations.write_requests == writes


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


# --- archive content ------------------------------------------------------------------------------


CONTRIBUTOR_FIELDS = {"ip", "connection", "user_agent", "useragent", "api_key", "key", "nickname", "email"}


def all_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def test_archived_records_carry_no_contributor_data() -> None:
    now = datetime.now(UTC)
    body = GeosubmitRequest.model_validate(
        {"items": [{
            "timestamp": int(now.timestamp() * 1000),
            "position": {"latitude": CENTER[0], "longitude": CENTER[1], "accuracy": 5},
            "connection": {"ip": "203.0.113.9"},
            "wifiAccessPoints": [{"macAddress": "00163e000001", "ssid": "a"}, {"macAddress": "00163e000002", "ssid": "b"}],
            "bluetoothBeacons": [{"macAddress": "00163e000003", "name": "c"}],
        }]}
    )  # fmt: skip
    reports = from_geosubmit_v2(body.items, ReportBuilder(SubmitLimits(now=now), "secret-key")).reports
    assert reports and reports[0].api_key == "secret-key"
    stores = memory_stores()
    process_reports(reports, stores, now, message_id="m1")
    objects = stores.archive.objects  # type: ignore[attr-defined]
    lines = [line for data in objects.values() for line in decode_jsonl_gz(data)]
    assert len(lines) == 1
    assert not all_keys(lines[0]) & CONTRIBUTOR_FIELDS
    raw = b"".join(objects.values())
    assert b"secret-key" not in decode_raw(raw) and b"203.0.113.9" not in decode_raw(raw)
    assert lines[0]["wifi"][0]["mac"] == "00163e000001"  # the observation itself is kept (replayable)


def decode_raw(data: bytes) -> bytes:
    import gzip

    return gzip.decompress(data)


def test_a_message_body_sent_again_is_not_aggregated_twice() -> None:
    """A submission re-sent after a 503 that came after part of it was enqueued: the same reports
    make the same message body, which arrives again under a new SQS message id."""
    from openloc.ingest.pipeline import content_id, parse_message
    from openloc.store.queue import pack_messages

    stores = _stores()
    reports = [_report(wifi=WIFIS, submitter="s")]
    [body] = pack_messages([r.model_dump(mode="json", exclude_none=True) for r in reports])
    first = process_reports(parse_message(body), stores, NOW, message_id="m1", content_id=content_id(body))
    again = process_reports(parse_message(body), stores, NOW, message_id="m2", content_id=content_id(body))
    assert first.stations_written == 2 and again.duplicate and again.stations_written == 0
    assert stores.stations.stations["wifi#001a2b000001"].samples == 1
    assert len(stores.archive.objects) == 1
