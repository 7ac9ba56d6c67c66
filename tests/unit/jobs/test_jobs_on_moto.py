"""End to end on moto (in process): every sharded job through the export Lambda handler and the
in-process executor, on DynamoDB tables and S3 buckets as the stack creates them; the bulk jobs
through the CLI (`openloc import --sharded`, `openloc replay --sharded`, `openloc jobs run`)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from openloc.cli import main
from openloc.jobs.executor import run_local
from openloc.jobs.registry import BY_TASK, SHARDED_JOBS
from openloc.jobs.stores import JobStores
from openloc.local.functions import invoke, load_handler
from openloc.local.resources import create_buckets, create_tables
from openloc.local.stack import reset_caches
from openloc.model.report import archive_record
from openloc.publish.manifest import read_manifest
from openloc.publish.tile_set import PMTILES_KEY, archive_tiles
from openloc.settings import Settings, get_settings
from openloc.store.archive import S3Archive
from openloc.store.coverage import DynamoCoverageStore
from openloc.store.objects import S3ObjectStore
from openloc.store.stations import DynamoStationStore

from tests.unit.jobs.test_bulk_jobs import cell_csv
from tests.unit.jobs.world import NOW, coverage, world
from tests.unit.small_world import START, build_world, report_at

LIMITS = {
    "CELL_EXPORT_SHARD_CELLS": "10",
    "PUBLISH_SHARD_STATIONS": "40",
    "PACK_PART_ROWS": "30",
    "TILES_SHARD_CELLS": "80",
    "IMPORT_SHARD_BYTES": "2048",
    "REPLAY_SHARD_OBJECTS": "3",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        **LIMITS,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        reset_caches()
        settings = get_settings()
        create_tables(boto3.client("dynamodb", region_name="us-east-1"), settings)
        create_buckets(boto3.client("s3", region_name="us-east-1"), settings)
        stations = DynamoStationStore(settings)
        source = world(21, wifi=60, blue=10, cells=20)
        stations.put_stations(source.stations.values())
        stations.put_areas(source.areas.values())
        DynamoCoverageStore(settings).touch_grids(coverage(21, cells=100).grids, NOW.date().isoformat())
        yield settings
        reset_caches()


def _through_handler(task: str, settings: Settings) -> dict[str, Any]:
    handler = load_handler("export")
    state = S3ObjectStore.from_settings(settings, bucket=settings.archive_bucket)
    run = run_local(
        SHARDED_JOBS[task],
        state,
        lambda event: dict(invoke(handler, "export", event)),
        {"time": NOW.isoformat()},
    )
    summary: dict[str, Any] = run.summary
    return summary


def test_scheduled_sharded_jobs_through_the_handler_match_the_single_runs(aws: Settings) -> None:
    stores = JobStores.from_settings(aws)
    single_export = BY_TASK["cell_export_full"].run(stores, NOW).summary
    expected = gzip.decompress(stores.assets.get(single_export["key"]) or b"").decode().splitlines()
    sharded_export = _through_handler("cell_export_full", aws)
    found = gzip.decompress(stores.assets.get(sharded_export["key"]) or b"").decode().splitlines()
    assert sharded_export["shards"] > 1 and found[0] == expected[0] and sorted(found) == sorted(expected)

    published = _through_handler("station_publish", aws)
    manifest, _ = read_manifest(stores.assets)
    assert manifest is not None and published["files"] == len(manifest.files) - 1  # + the cell export
    packs = [f for f in manifest.files if f.kind == "offline-pack" and f.region == "DE"]
    assert len(packs) > 1 and all((f.model_extra or {})["parts"] == len(packs) for f in packs)
    for entry in manifest.files:
        assert stores.assets.size(entry.path) == entry.size

    BY_TASK["tiles"].run(stores, NOW)
    single_archive = dict(archive_tiles(stores.assets.get(PMTILES_KEY) or b""))
    tiles = _through_handler("tiles", aws)
    assert dict(archive_tiles(stores.assets.get(PMTILES_KEY) or b"")) == single_archive
    assert tiles["archive_tiles"] == len(single_archive) > 0
    assert list(stores.state.keys("jobs/")) == []  # every run cleaned up after itself


def test_bulk_jobs_and_jobs_run_from_the_cli(
    aws: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cells.csv.gz"
    path.write_bytes(gzip.compress(cell_csv(4, 100, header=True)))
    assert main(["import", str(path), "--sharded", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "cell_import" and report["stages"]["rows"] > 1
    assert report["rows"] == 100 and report["imported"] + sum(report["invalid"].values()) == 100
    cells = list(DynamoStationStore(aws).scan_stations(prefixes=("cell#",)))
    assert len(cells) == 20 + report["imported"]  # the fixture's cells and the imported ones
    assert report["areas_updated"] > 0

    archive = S3Archive.from_settings(aws)
    places = build_world(seed=3)
    for index in range(7):
        report_ = report_at(places, 52.5219, 13.4132, START)
        archive.put([archive_record(report_)], START, f"message-{index}")
    assert main(["replay", "--from", "observations/", "--sharded", "--quiet"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert (replayed["objects"], replayed["stages"]) == (7, {"objects": 3})

    assert main(["jobs", "run", "stats", "--quiet"]) == 0  # a job without a sharded form
    assert json.loads(capsys.readouterr().out)["mode"] == "local"
    assert main(["jobs", "run", "cell_export_full", "--single", "--quiet", "--time", NOW.isoformat()]) == 0
    assert json.loads(capsys.readouterr().out)["key"].endswith("2026-11-20T000000.csv.gz")
    assert main(["jobs", "run", "nothing"]) == 2
    assert main(["jobs", "run", "cell_export_full", "--param", "oops"]) == 2
    assert main(["jobs", "list"]) == 0
    listing = capsys.readouterr().out
    assert "scan → build → files" in listing and "cell_import" in listing and "on demand" in listing
