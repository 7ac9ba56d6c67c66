"""Public Wi-Fi/Bluetooth dumps and offline packs built from a simulated world: what is published,
how an opt-out removes a published station from the next dump, and the scheduled publication."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from openloc.api.services import Services
from openloc.ingest.pipeline import parse_message, process_reports
from openloc.model.identifiers import station_id
from openloc.model.kinds import StationKind
from openloc.publish.dumps import BuiltFile, build_publications, run_publication
from openloc.publish.policy import POSITION_DECIMALS, PublishPolicy
from openloc.store.objects import S3ObjectStore
from openloc.store.queue import MemoryObservationQueue
from openloc.store.stations import MemoryStationStore
from starlette.testclient import TestClient

from tests.unit.small_world import build_world, memory_stores, observe

START = datetime(2026, 10, 1, tzinfo=UTC)


POLICY = PublishPolicy(min_samples=5, min_days=7)


def read_csv(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as stream:
        return list(csv.DictReader(stream))


def by_kind(built: list[BuiltFile], kind: str, region: str, fmt: str) -> BuiltFile:
    return next(f for f in built if (f.kind, f.region, f.format) == (kind, region, fmt))


@pytest.fixture(scope="module")
def world_store() -> MemoryStationStore:
    stores = memory_stores()
    observe(build_world(), stores, START, days=12, per_day=350, seed=3)
    assert isinstance(stores.stations, MemoryStationStore)
    return stores.stations


def build(stations: MemoryStationStore, tmp_path: Path, now: datetime) -> list[BuiltFile]:
    records = [s for k, s in stations.stations.items() if not k.startswith("hash#")]
    return build_publications(records, list(stations.areas.values()), tmp_path, now, POLICY)


def test_dump_files_per_region_and_world(world_store: MemoryStationStore, tmp_path: Path) -> None:
    now = START + timedelta(days=12)
    built = build(world_store, tmp_path, now)
    names = {(f.kind, f.region, f.format) for f in built}
    for kind in ("wifi-dump", "ble-dump"):
        for region in ("world", "DE"):
            assert {(kind, region, "csv.gz"), (kind, region, "sqlite.gz")} <= names
    assert {("offline-pack", "DE", "sqlite.gz"), ("offline-pack", "mcc-262", "sqlite.gz")} <= names
    rows = read_csv(by_kind(built, "wifi-dump", "world", "csv.gz").path)
    assert rows and list(rows[0]) == ["id", "lat", "lon", "radius", "samples"]
    expected = {station_id(StationKind.WIFI, f"00163e{i:06x}", f"net-{i}") for i in range(120)}
    assert {r["id"] for r in rows} <= expected
    assert all(len(r["lat"].split(".")[1]) == POSITION_DECIMALS["wifi"] for r in rows)
    # No raw MAC or SSID anywhere in any published file.
    for file in built:
        raw = gzip.decompress(file.path.read_bytes())
        assert b"00163e" not in raw and b"net-" not in raw and b"beacon-" not in raw
    # The SQLite dump holds the same stations as the CSV.
    sqlite_dump = by_kind(built, "wifi-dump", "world", "sqlite.gz")
    plain = tmp_path / "dump.sqlite"
    plain.write_bytes(gzip.decompress(sqlite_dump.path.read_bytes()))
    with sqlite3.connect(plain) as db:
        ids = {"v1:" + row[0].hex() for row in db.execute("SELECT id FROM wifi")}
    assert ids == {r["id"] for r in rows} and sqlite_dump.rows == len(rows)


def test_opt_out_removes_a_published_station_from_the_next_dump(
    world_store: MemoryStationStore,
    tmp_path: Path,
    make_services: Callable[..., Services],
    make_client: Callable[[Services], TestClient],
) -> None:
    stations = MemoryStationStore()
    stations.stations = {k: replace(v) for k, v in world_store.stations.items()}
    stations.areas = dict(world_store.areas)
    first = START + timedelta(days=12)
    published = read_csv(
        by_kind(build(stations, tmp_path / "before", first), "wifi-dump", "DE", "csv.gz").path
    )
    network = next(
        i
        for i in range(120)
        if station_id(StationKind.WIFI, f"00163e{i:06x}", f"net-{i}") in {r["id"] for r in published}
    )
    mac = f"00163e{network:06x}"
    target = next(s for s in stations.stations.values() if s.key == f"wifi#{mac}")
    assert target.lat is not None and target.lon is not None

    # The owner renames the network "<name>_nomap"; a stumbler reports it (with another network).
    queue = MemoryObservationQueue()
    client = make_client(make_services(stations=stations, queue=queue))
    item = {
        "timestamp": int(datetime.now(UTC).timestamp() * 1000),
        "position": {"latitude": target.lat, "longitude": target.lon, "accuracy": 10},
        "wifiAccessPoints": [
            {"macAddress": mac, "ssid": f"net-{network}_nomap", "signalStrength": -50},
            {"macAddress": "00163e999999", "ssid": "other", "signalStrength": -70},
        ],
    }
    assert client.post("/v2/geosubmit", json={"items": [item]}).status_code == 200
    stores = replace(memory_stores(), stations=stations)
    for body in queue.messages:
        process_reports(parse_message(body), stores, first + timedelta(days=1))
    withdrawn = stations.stations[f"wifi#{mac}"]
    assert withdrawn.lat is None and withdrawn.name_hash is None and withdrawn.optout_last is not None
    archived = b"".join(gzip.decompress(v) for v in stores.archive.objects.values())  # type: ignore[attr-defined]
    assert b"_nomap" not in archived  # the opt-out name itself is never stored

    after = build(stations, tmp_path / "after", first + timedelta(days=1))
    for file in after:
        if file.format == "csv.gz" and file.kind == "wifi-dump":
            assert station_id(StationKind.WIFI, mac, f"net-{network}") not in {
                r["id"] for r in read_csv(file.path)
            }
    # Later observations under the old name do not bring it back while the opt-out holds.
    observe(build_world(), stores, first + timedelta(days=2), days=2, per_day=350, seed=9)
    assert stations.stations[f"wifi#{mac}"].lat is None
    again = build(stations, tmp_path / "again", first + timedelta(days=4))
    ids = {r["id"] for r in read_csv(by_kind(again, "wifi-dump", "world", "csv.gz").path)}
    assert station_id(StationKind.WIFI, mac, f"net-{network}") not in ids and len(ids) > 10


@mock_aws
def test_scheduled_publication_uploads_lists_and_prunes(world_store: MemoryStationStore) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="assets")
    records = [s for k, s in world_store.stations.items() if not k.startswith("hash#")]
    areas = list(world_store.areas.values())
    runs = []
    for day in range(3):
        now = START + timedelta(days=12 + day)
        runs.append(run_publication(S3ObjectStore(s3, "assets"), records, areas, now, POLICY))
    manifest = json.loads(s3.get_object(Bucket="assets", Key="downloads.json")["Body"].read())
    listed = [f for f in manifest["files"] if f["kind"] in ("wifi-dump", "ble-dump", "offline-pack")]
    assert {f["path"] for f in listed} == {f.path for run in runs[1:] for f in run.files}
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket="assets", Prefix="exports/")["Contents"]}
    assert stored == {f["path"] for f in listed}  # the oldest generation was deleted
    assert runs[2].deleted == len(runs[0].files)
    entry = next(
        f for f in listed if f["kind"] == "wifi-dump" and f["region"] == "DE" and f["format"] == "csv.gz"
    )
    body = s3.get_object(Bucket="assets", Key=entry["path"])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == entry["sha256"] and len(body) == entry["size"]
    assert entry["rows"] == len(gzip.decompress(body).decode().splitlines()) - 1
    assert {"DE", "mcc-262"} <= {f["region"] for f in listed if f["kind"] == "offline-pack"}
