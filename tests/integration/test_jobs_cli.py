"""`openloc jobs list|run` against the local stack: the registry's jobs, run by hand."""

from __future__ import annotations

import json

import pytest
from openloc.cli import main
from openloc.jobs.registry import SCHEDULES
from openloc.local.stack import LocalStack
from openloc.store.aws import client

pytestmark = pytest.mark.integration


def test_jobs_list_names_every_scheduled_job(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == [schedule.task for schedule in SCHEDULES]


def test_jobs_run_writes_the_jobs_files(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "run", "cell_export_full", "--time", "2026-11-23T00:37:00Z"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["task"] == "cell_export_full" and summary["rows"] == 4  # the four demo cells
    assert summary["key"].endswith("2026-11-23T000000.csv.gz")
    head = client("s3").head_object(Bucket=stack.settings.assets_bucket, Key=summary["key"])
    assert head["ContentLength"] == summary["size"]
    assert main(["jobs", "run", "no_such_job"]) == 2
