"""`openloc jobs list|run` against the local stack: the registry's jobs, run by hand, sharded
through the in-process executor (the default, `--local`) or as single runs (`--single`)."""

from __future__ import annotations

import json

import pytest
from openloc.cli import main
from openloc.jobs.registry import ON_DEMAND, SCHEDULES
from openloc.local.stack import LocalStack
from openloc.publish.manifest import read_manifest
from openloc.publish.tile_set import PMTILES_KEY
from openloc.store.aws import client
from openloc.store.coverage import DynamoCoverageStore
from openloc.store.objects import S3ObjectStore

pytestmark = pytest.mark.integration


def test_jobs_list_names_every_job(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == [schedule.task for schedule in SCHEDULES] + [job.task for job in ON_DEMAND]


def test_jobs_run_writes_the_jobs_files(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "run", "cell_export_full", "--time", "2026-11-23T00:37:00Z", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["task"], summary["mode"], summary["stages"]) == (
        "cell_export_full",
        "local",
        {"cells": 1},
    )
    assert summary["rows"] == 4  # the four demo cells
    assert summary["key"].endswith("2026-11-23T000000.csv.gz")
    head = client("s3").head_object(Bucket=stack.settings.assets_bucket, Key=summary["key"])
    assert head["ContentLength"] == summary["size"]
    assert (
        main(["jobs", "run", "cell_export_full", "--single", "--time", "2026-11-24T00:37:00Z", "--quiet"])
        == 0
    )
    single = json.loads(capsys.readouterr().out)
    assert single["mode"] == "single" and single["rows"] == 4
    assert main(["jobs", "run", "no_such_job"]) == 2


def test_sharded_publication_and_tiles_on_the_stack(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs", "run", "station_publish", "--quiet"]) == 0
    published = json.loads(capsys.readouterr().out)
    assert list(published["stages"]) == ["scan", "build", "files"] and published["files"] > 0
    manifest, _ = read_manifest(S3ObjectStore.from_settings(stack.settings))
    assert manifest is not None
    packs = [f for f in manifest.files if f.kind == "offline-pack" and f.region == "DE"]
    assert packs and all((f.model_extra or {}).get("parts") == 1 for f in packs)  # the demo is small
    assert main(["jobs", "run", "tiles", "--quiet"]) == 0
    tiles = json.loads(capsys.readouterr().out)
    assert list(tiles["stages"]) == ["grid", "render"]
    assert tiles["cells"] == len(list(DynamoCoverageStore.from_settings(stack.settings).grid_cells()))
    assert client("s3").head_object(Bucket=stack.settings.assets_bucket, Key=PMTILES_KEY)["ContentLength"] > 0
    assert not list(
        S3ObjectStore.from_settings(stack.settings, bucket=stack.settings.archive_bucket).keys("jobs/")
    )
