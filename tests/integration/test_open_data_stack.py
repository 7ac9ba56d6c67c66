"""Open data against the local stack's DynamoDB/S3 APIs: the export handler (full and hourly
diff through the change index), `openloc import` into fresh tables (round trip), `/v1/transfer`,
`openloc export --out` and `openloc transfer` from a second instance's tables."""

from __future__ import annotations

import csv
import gzip
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from openloc.cli import main as openloc_main
from openloc.local.functions import invoke
from openloc.local.resources import create_tables
from openloc.local.stack import LocalStack
from openloc.model.records import ApiKeyRecord, StationRecord
from openloc.publish.manifest import read_manifest
from openloc.settings import Settings, get_settings
from openloc.store.api_keys import DynamoApiKeyStore
from openloc.store.aws import client
from openloc.store.objects import S3ObjectStore
from openloc.store.pynamodb_tables import bind_models
from openloc.store.stations import DynamoStationStore

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
LAST_HOUR = NOW.replace(minute=0, second=0) - timedelta(minutes=30)


def cells() -> list[StationRecord]:
    records = []
    for i in range(1, 41):
        records.append(
            StationRecord(
                key=f"cell#{('gsm', 'wcdma', 'lte', 'nr')[i % 4]}#262#0{i % 3 + 1}#{100 + i % 5}#{i}",
                lat=52.0 + i / 100, lon=13.0 + i / 200, radius=500.0 + i, samples=5 + i, psc=i,
                created=NOW - timedelta(days=20), modified=LAST_HOUR if i <= 7 else NOW - timedelta(days=3),
                version=1,
            )
        )  # fmt: skip
    return records


@pytest.fixture(scope="module")
def seeded(stack: LocalStack) -> Iterator[LocalStack]:
    DynamoStationStore(stack.settings).put_stations(cells())
    yield stack


def export(stack: LocalStack, task: str, when: datetime) -> dict[str, Any]:
    event = {"detail": {"task": task, "time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}, "resources": []}
    result: dict[str, Any] = invoke(stack.handler("export"), "export", event)
    return result


def rows_of(bucket: str, key: str) -> list[list[str]]:
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return list(csv.reader(io.StringIO(gzip.decompress(body).decode())))


def test_full_and_diff_export_through_the_handler(seeded: LocalStack) -> None:
    bucket = seeded.settings.assets_bucket
    full = export(seeded, "cell_export_full", NOW)
    full_cids = {int(r[4]) for r in rows_of(bucket, full["key"])[1:]}
    assert set(range(1, 41)) <= full_cids  # plus the demo seed's cells
    diff = export(seeded, "cell_export_diff", NOW)
    assert diff["key"].startswith("exports/cells/diff/")
    assert sorted(int(r[4]) for r in rows_of(bucket, diff["key"])[1:]) == list(range(1, 8))
    manifest, _ = read_manifest(S3ObjectStore(client("s3"), bucket))
    assert manifest is not None
    assert {(f.kind, f.path, f.rows) for f in manifest.files} >= {
        ("cell-full", full["key"], full["rows"]),
        ("cell-diff", diff["key"], 7),
    }


def test_import_cli_round_trip_into_fresh_tables(
    seeded: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = seeded.settings.assets_bucket
    first = export(seeded, "cell_export_full", NOW)
    path = tmp_path / "export.csv.gz"
    path.write_bytes(client("s3").get_object(Bucket=bucket, Key=first["key"])["Body"].read())
    fresh = Settings(
        stations_table="rt-stations", cell_areas_table="rt-cell-areas", assets_bucket="rt-assets"
    )
    create_tables(client("dynamodb"), fresh)
    client("s3").create_bucket(Bucket="rt-assets")
    monkeypatch.setenv("STATIONS_TABLE", fresh.stations_table)
    monkeypatch.setenv("CELL_AREAS_TABLE", fresh.cell_areas_table)
    monkeypatch.setenv("ASSETS_BUCKET", "rt-assets")
    get_settings.cache_clear()
    try:
        assert openloc_main(["import", str(path), "--quiet"]) == 0
        assert f"imported {first['rows']} of {first['rows']} rows" in capsys.readouterr().out
        areas = client("dynamodb").scan(TableName=fresh.cell_areas_table)["Items"]
        assert len(areas) == len({r[0] + r[1] + r[2] + r[3] for r in rows_of(bucket, first["key"])[1:]})
        from openloc.jobs import cell_export_full
        from openloc.jobs.stores import JobStores

        again = cell_export_full.run(JobStores.from_settings(get_settings()), NOW)
        assert sorted(rows_of(bucket, first["key"])) == sorted(rows_of("rt-assets", again.summary["key"]))
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        bind_models(seeded.settings)


def test_transfer_merges_into_the_stack(seeded: LocalStack) -> None:
    DynamoApiKeyStore(seeded.settings).put(ApiKeyRecord(key="peer-instance", allow_transfer=True))
    item = {
        "radio": "LTE", "mcc": 262, "net": 2, "area": 99, "cell": 4242, "lat": 50.1, "lon": 8.6,
        "range": 900, "samples": 12,
    }  # fmt: skip
    with httpx.Client(base_url=seeded.url, timeout=20) as api:
        response = api.post("/v1/transfer?key=peer-instance", json={"batch": "it-1", "cells": [item]})
        assert response.status_code == 200, response.text
        denied = api.post("/v1/transfer?key=test", json={"batch": "it-2", "cells": [item]})
        assert denied.status_code == 403
    stored = DynamoStationStore(seeded.settings).get_stations(["cell#lte#262#02#99#4242"])
    record = stored["cell#lte#262#02#99#4242"]
    assert (record.lat, record.lon, record.samples) == (50.1, 8.6, 12)


def test_export_cli_writes_the_full_exports_rows(
    seeded: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`openloc export --out FILE` against the stack's moto server: the handler's full export rows."""
    full = export(seeded, "cell_export_full", NOW)
    out = tmp_path / "cells.csv.gz"
    assert openloc_main(["export", "--out", str(out), "--quiet"]) == 0
    assert (
        f"wrote {out}: {full['rows']} cells from {seeded.settings.stations_table}" in capsys.readouterr().out
    )
    mine = list(csv.reader(io.StringIO(gzip.decompress(out.read_bytes()).decode())))
    theirs = rows_of(seeded.settings.assets_bucket, full["key"])
    assert mine[0] == theirs[0] and sorted(mine[1:]) == sorted(theirs[1:])


def _transfer(stack: LocalStack, state: Path, key: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`openloc transfer` as an operator runs it: its own process, reading the peer's tables."""
    env = os.environ | {"STATIONS_TABLE": "peer-stations", "CELL_AREAS_TABLE": "peer-cell-areas"}
    command = [sys.executable, "-m", "openloc.cli", "transfer", "--to", stack.url, "--key", key]
    command += ["--state", str(state), "--sender", "peer-a", "--batch-size", "100", *extra]
    # Generous: three batches merged by moto take seconds alone, much longer on a busy machine.
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_transfer_cli_sends_another_instance_into_the_stack(seeded: LocalStack, tmp_path: Path) -> None:
    """A second instance's tables in the same moto server, sent over HTTP to the stack's
    `/v1/transfer` by `openloc transfer`; a second run sends nothing; a key without the transfer
    permission stops the command with the peer's reason."""
    peer = Settings(stations_table="peer-stations", cell_areas_table="peer-cell-areas")
    create_tables(client("dynamodb"), peer)
    records = [
        StationRecord(
            key=f"cell#lte#262#07#{700 + i % 3}#{9000 + i}", lat=48.1 + i / 1000, lon=11.5 + i / 1000,
            radius=400.0 + i, samples=3 + i, created=NOW - timedelta(days=9), modified=NOW - timedelta(days=1),
        )
        for i in range(1, 241)
    ] + [
        StationRecord(key=f"wifi#00163e{i:06x}", lat=48.1, lon=11.5 + i / 10_000, radius=60.0, samples=4,
                      created=NOW - timedelta(days=9), modified=NOW - timedelta(days=1))
        for i in range(1, 61)
    ]  # fmt: skip
    try:
        DynamoStationStore(peer).put_stations(records)
    finally:
        bind_models(seeded.settings)
    DynamoApiKeyStore(seeded.settings).put(ApiKeyRecord(key="peer-a-key", allow_transfer=True))

    first = _transfer(seeded, tmp_path / "peer.sqlite", "peer-a-key")
    assert first.returncode == 0, first.stderr
    assert "sent 300 items in 3 batches" in first.stdout and "240 cell, 60 wifi" in first.stdout
    stored = DynamoStationStore(seeded.settings).get_stations([r.key for r in records])
    assert {k: (r.lat, r.lon, r.samples) for k, r in stored.items()} == {
        r.key: (r.lat, r.lon, r.samples) for r in records
    }
    again = _transfer(seeded, tmp_path / "peer.sqlite", "peer-a-key")
    assert again.returncode == 0 and "sent 0 items in 0 batches" in again.stdout, again.stderr
    refused = _transfer(seeded, tmp_path / "other.sqlite", "test", "--full")
    assert refused.returncode == 2
    assert "403 transferNotAllowed" in refused.stderr and "--allow-transfer" in refused.stderr
