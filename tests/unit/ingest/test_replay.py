"""Replay of the archive, and its retention."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import boto3
from moto import mock_aws
from openloc.ingest.demo_seed import CENTER
from openloc.ingest.replay import replay
from openloc.model.report import BlueObservation, Report, WifiObservation, archive_record
from openloc.store.archive import S3Archive
from openloc.store.stations import MemoryStationStore

from tests.unit.small_world import memory_stores


def report_at(when: datetime, mac_base: int) -> Report:
    return Report(
        timestamp=int(when.timestamp() * 1000), latitude=CENTER[0], longitude=CENTER[1], accuracy=5.0,
        wifi=(WifiObservation(mac=f"00163e{mac_base:06x}", ssid="a"), WifiObservation(mac=f"00163e{mac_base + 1:06x}")),
        bluetooth=(BlueObservation(mac=f"00163f{mac_base:06x}"),),
    )  # fmt: skip


@mock_aws
def test_replay_ignores_data_older_than_the_retention() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="archive")
    archive = S3Archive(s3, "archive")
    recent = now - timedelta(days=30)
    old = now - timedelta(days=400)
    archive.put([archive_record(report_at(recent, 0x10))], recent, "recent")
    archive.put([archive_record(report_at(old, 0x20))], old, "old")
    # A recent object that (re-archived late) holds a report older than the retention.
    archive.put(
        [archive_record(report_at(old, 0x30)), archive_record(report_at(recent, 0x40))], recent, "mixed"
    )
    stores = memory_stores()
    result = replay(archive, "observations/", stores, now=lambda: now, out=io.StringIO(), retention_days=365)
    assert (result.objects, result.expired_objects, result.expired_reports, result.reports) == (2, 1, 1, 2)
    assert isinstance(stores.stations, MemoryStationStore)
    keys = set(stores.stations.stations)
    assert "wifi#00163e000010" in keys and "wifi#00163e000040" in keys
    assert not {"wifi#00163e000020", "wifi#00163e000030"} & keys
    longer = memory_stores()
    assert (
        replay(
            archive, "observations/", longer, now=lambda: now, out=io.StringIO(), retention_days=500
        ).reports
        == 4
    )
