"""Data survives a restart of the local stack (object headers too, deleted objects stay deleted),
and the scheduled export job writes its file."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import httpx
import pytest
from openloc.ingest.demo_seed import DEMO_CELLS
from openloc.jobs.registry import SCHEDULES
from openloc.local.stack import LocalStack
from openloc.publish.cell_export import HEADER
from openloc.store.aws import client

pytestmark = pytest.mark.integration

WIFI = {"wifiAccessPoints": [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]}


def test_restart_keeps_data_and_export_runs_on_schedule(tmp_path: Path) -> None:
    first = LocalStack(
        data_dir=tmp_path, port=0, run_poller=False, run_scheduler=True, env={"GEOIP_PATH": ""}
    )
    first.start()
    try:
        assert first.seeded
        assert first.scheduler is not None
        result = first.scheduler.run_now(next(s for s in SCHEDULES if s.task == "cell_export_full"))
        body = client("s3").get_object(Bucket=first.settings.assets_bucket, Key=result["key"])["Body"].read()
        rows = list(csv.reader(io.StringIO(gzip.decompress(body).decode())))
        assert tuple(rows[0]) == HEADER
        assert sorted(int(r[4]) for r in rows[1:]) == sorted(c.cid for c in DEMO_CELLS)
        assert {r[0] for r in rows[1:]} == {"LTE"}
        s3 = client("s3")
        bucket = first.settings.assets_bucket
        s3.put_object(
            Bucket=bucket,
            Key="tiles/0/0/0.png",
            Body=b"png",
            ContentType="image/png",
            CacheControl="public, max-age=3600",
        )
        s3.put_object(Bucket=bucket, Key="gone.txt", Body=b"x")
        first.save()
        s3.delete_object(Bucket=bucket, Key="gone.txt")
    finally:
        first.stop()
    assert (tmp_path / "dynamodb" / "openloc-stations.json").exists()

    second = LocalStack(
        data_dir=tmp_path, port=0, run_poller=False, run_scheduler=False, env={"GEOIP_PATH": ""}
    )
    second.start()
    try:
        assert not second.seeded  # restored, not re-seeded
        with httpx.Client(base_url=second.url, timeout=20) as api:
            assert api.post("/v1/geolocate?key=test", json=WIFI).status_code == 200
        assert (
            client("s3").list_objects_v2(Bucket=second.settings.assets_bucket, Prefix="exports/cells/full/")[
                "KeyCount"
            ]
            == 1
        )
        restored = client("s3").head_object(Bucket=second.settings.assets_bucket, Key="tiles/0/0/0.png")
        assert (restored["ContentType"], restored["CacheControl"]) == ("image/png", "public, max-age=3600")
        gone = client("s3").list_objects_v2(Bucket=second.settings.assets_bucket, Prefix="gone.txt")
        assert gone["KeyCount"] == 0  # deleted objects do not come back
    finally:
        second.stop()
