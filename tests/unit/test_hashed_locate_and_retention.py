"""Geolocate by hashed identifier (errors are envelopes, never 500), the raw archive's content,
and replay's retention."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from openloc.api.schemas import GeosubmitRequest
from openloc.api.services import Services, cached_manifest
from openloc.api.submissions import ReportBuilder, SubmitLimits, from_geosubmit_v2
from openloc.ingest.demo_seed import CENTER, WIFI_PREFIX, demo_mac
from openloc.ingest.pipeline import process_reports
from openloc.ingest.replay import replay
from openloc.model.identifiers import station_digest, station_id
from openloc.model.kinds import StationKind
from openloc.model.records import StationRecord
from openloc.model.report import BlueObservation, Report, WifiObservation, archive_record
from openloc.publish.manifest import DownloadFile, Manifest
from openloc.store.archive import S3Archive, archive_time, decode_jsonl_gz, expired
from openloc.store.stations import MemoryStationStore
from starlette.testclient import TestClient

from tests.unit.small_world import memory_stores


def name_demo_wifis(store: MemoryStationStore, indexes: range) -> None:
    """Give demo Wi-Fi stations a name digest and alias item, as the aggregator would."""
    for i in indexes:
        mac = demo_mac(WIFI_PREFIX, i)
        digest = station_digest(StationKind.WIFI, mac, f"demo-{i}")
        store.stations[f"wifi#{mac}"].name_hash = digest
        store.stations[f"hash#wifi#{digest}"] = StationRecord(
            key=f"hash#wifi#{digest}", alias_of=f"wifi#{mac}"
        )


def hashed(i: int, name: str | None = None) -> dict[str, Any]:
    return {
        "hashedId": station_id(StationKind.WIFI, demo_mac(WIFI_PREFIX, i), name or f"demo-{i}"),
        "signalStrength": -60,
    }


def test_hashed_identifiers_locate_like_macs(client: TestClient, seeded: MemoryStationStore) -> None:
    name_demo_wifis(seeded, range(8, 12))
    by_mac = client.post(
        "/v1/geolocate?key=test",
        json={
            "considerIp": False,
            "wifiAccessPoints": [
                {"macAddress": demo_mac(WIFI_PREFIX, i), "signalStrength": -60} for i in (9, 10, 11)
            ],
        },
    )
    before = seeded.batch_gets
    by_hash = client.post(
        "/v1/geolocate?key=test",
        json={"considerIp": False, "wifiAccessPoints": [hashed(i) for i in (9, 10, 11)]},
    )
    assert by_hash.status_code == 200 and by_hash.json() == by_mac.json()
    assert seeded.batch_gets - before == 2  # aliases, then their stations
    mixed = client.post(
        "/v1/geolocate?key=test",
        json={
            "considerIp": False,
            "wifiAccessPoints": [
                hashed(9),
                {"macAddress": demo_mac(WIFI_PREFIX, 10), "signalStrength": -60},
                hashed(11),
            ],
        },
    )
    assert mixed.json() == by_mac.json()


def test_stale_or_wrong_name_hashes_do_not_answer(client: TestClient, seeded: MemoryStationStore) -> None:
    name_demo_wifis(seeded, range(8, 12))
    wrong = client.post(
        "/v1/geolocate?key=test",
        json={"considerIp": False, "wifiAccessPoints": [hashed(9, "x"), hashed(10, "y")]},
    )
    assert wrong.status_code == 404
    # A renamed network: the alias of the old name remains but no longer matches the station.
    seeded.stations[f"wifi#{demo_mac(WIFI_PREFIX, 9)}"].name_hash = station_digest(
        "wifi", demo_mac(WIFI_PREFIX, 9), "new"
    )
    stale = client.post(
        "/v1/geolocate?key=test", json={"considerIp": False, "wifiAccessPoints": [hashed(9), hashed(10)]}
    )
    assert stale.status_code == 404


@pytest.mark.parametrize(
    "value",
    ["v2:" + "0" * 32, "v1:" + "0" * 31, "v1:" + "z" * 32, "0" * 32, "", "v1:", "v1:" + "0" * 64],
)
@pytest.mark.parametrize("field", ["wifiAccessPoints", "bluetoothBeacons"])
def test_bad_hashed_identifiers_are_parse_errors(client: TestClient, value: str, field: str) -> None:
    response = client.post("/v1/geolocate?key=test", json={field: [{"hashedId": value}, hashed(9)]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400 and error["errors"][0]["reason"] == "parseError"
    assert client.post("/v1/region?key=test", json={field: [{"hashedId": value}]}).status_code == 400


def test_openapi_documents_hashed_id(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "hashedId" in schemas["WifiAccessPoint"]["properties"]
    assert "hashedId" in schemas["BluetoothBeacon"]["properties"]


# --- archive content ------------------------------------------------------------------------


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


# --- retention ------------------------------------------------------------------------------


def test_archive_key_dates() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert archive_time("observations/2026/11/23/05/x.jsonl.gz") == datetime(2026, 11, 23, 5, tzinfo=UTC)
    assert archive_time("other/2026/11/23/05/x.jsonl.gz") is None
    assert not expired("observations/2026/11/23/05/x.jsonl.gz", now, 365)
    assert not expired("observations/2025/11/23/12/x.jsonl.gz", now, 365)
    assert expired("observations/2025/11/23/11/x.jsonl.gz", now, 365)
    assert expired("observations/2026/13/40/99/x.jsonl.gz", now, 365)  # undatable: never replayed


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


# --- GET /v1/offline/{region} ---------------------------------------------------------------


def pack_entry(region: str, day: int) -> DownloadFile:
    return DownloadFile(
        kind="offline-pack", path=f"exports/offline/2026-11-{day:02d}/openloc-pack-{region}.sqlite.gz",
        region=region, format="sqlite.gz", size=123, rows=45, sha256="a" * 64,
        created=datetime(2026, 11, day, 2, 7, tzinfo=UTC),
    )  # fmt: skip


def test_offline_pack_lookup(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient]
) -> None:
    manifest = Manifest(
        updated=datetime(2026, 11, 23, tzinfo=UTC),
        files=[pack_entry("DE", 22), pack_entry("DE", 23), pack_entry("mcc-262", 23)],
    )
    client = make_client(make_services(manifest=lambda: manifest))
    found = client.get("/v1/offline/de")
    assert found.status_code == 200
    assert found.json() == {
        "region": "DE", "path": "exports/offline/2026-11-23/openloc-pack-DE.sqlite.gz", "format": "sqlite.gz",
        "size": 123, "rows": 45, "sha256": "a" * 64, "created": "2026-11-23T02:07:00Z",
    }  # fmt: skip
    assert client.get("/v1/offline/mcc-262").json()["region"] == "mcc-262"
    for region, message in (
        ("ZZ", "unknown region"),
        ("mcc-999", "unknown mobile country code"),
        ("FR", "no offline pack for FR"),
    ):
        response = client.get(f"/v1/offline/{region}")
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["errors"][0]["reason"] == "notFound" and message in error["message"]
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/offline/{region}" in paths


def test_offline_pack_lookup_without_manifest_or_with_a_broken_store(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient]
) -> None:
    assert make_client(make_services()).get("/v1/offline/DE").status_code == 404

    def broken() -> Manifest | None:
        raise ConnectionError("s3 down")

    response = make_client(make_services(manifest=broken)).get("/v1/offline/DE")
    assert (
        response.status_code == 503
        and response.json()["error"]["errors"][0]["reason"] == "serviceUnavailable"
    )


def test_manifest_cache_reads_once_a_minute() -> None:
    reads: list[int] = []
    clock = [0.0]

    def read() -> Manifest | None:
        reads.append(1)
        return None

    get = cached_manifest(read, lambda: clock[0])
    get(), get()
    clock[0] = 59.0
    get()
    assert len(reads) == 1
    clock[0] = 60.0
    get()
    assert len(reads) == 2
