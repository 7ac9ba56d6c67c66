"""Privacy features against the local stack's DynamoDB/S3/SQS APIs and real handlers: the
scheduled `station_publish` job, geolocate by hashed identifier, an owner's opt-out through
`/v2/geosubmit` removing the network from the next dump, and `openloc offline build/locate`."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from openloc.cli import main
from openloc.jobs.registry import SCHEDULES
from openloc.local.functions import invoke
from openloc.local.scheduler import scheduled_event
from openloc.local.stack import LocalStack
from openloc.model.identifiers import station_digest, station_id
from openloc.model.kinds import StationKind
from openloc.model.records import StationRecord
from openloc.store.aws import client
from openloc.store.stations import DynamoStationStore

pytestmark = pytest.mark.integration

CENTER = (48.1374, 11.5755)  # Munich: region DE
MACS = [f"00163e1000{i:02x}" for i in range(6)]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(
        data_dir=None, port=0, run_scheduler=False, visibility_timeout=1, env={"GEOIP_PATH": ""}
    ) as local:
        yield local


def _seed(stack: LocalStack) -> None:
    now = datetime.now(UTC)
    records = []
    for i, mac in enumerate(MACS):
        digest = station_digest(StationKind.WIFI, mac, f"cafe-{i}")
        lat, lon = CENTER[0] + i * 0.0003, CENTER[1] + i * 0.0003
        records.append(
            StationRecord(
                key=f"wifi#{mac}", lat=lat, lon=lon, min_lat=lat, max_lat=lat, min_lon=lon, max_lon=lon,
                radius=40, region="DE", samples=50, weight=50.0, created=now - timedelta(days=30),
                modified=now, last_seen=now.date().isoformat(), version=1, name_hash=digest, name_votes=50,
            )
        )  # fmt: skip
        records.append(StationRecord(key=f"hash#wifi#{digest}", alias_of=f"wifi#{mac}"))
    DynamoStationStore(stack.settings).put_stations(records)


def _publish(stack: LocalStack) -> dict[str, object]:
    schedule = next(s for s in SCHEDULES if s.task == "station_publish")
    result: dict[str, object] = invoke(
        stack.handler("export"), "export", scheduled_event(schedule, datetime.now(UTC), "us-east-1")
    )
    return result


def _published_ids(stack: LocalStack) -> set[str]:
    s3 = client("s3")
    manifest = json.loads(
        s3.get_object(Bucket=stack.settings.assets_bucket, Key="downloads.json")["Body"].read()
    )
    newest = max(
        (
            f
            for f in manifest["files"]
            if (f["kind"], f["region"], f["format"]) == ("wifi-dump", "DE", "csv.gz")
        ),
        key=lambda f: (f["created"], f["path"]),
    )
    body = s3.get_object(Bucket=stack.settings.assets_bucket, Key=newest["path"])["Body"].read()
    return {row["id"] for row in csv.DictReader(io.StringIO(gzip.decompress(body).decode()))}


def test_publish_locate_by_hash_and_opt_out(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(stack)
    result = _publish(stack)
    assert result["task"] == "station_publish"
    expected = {station_id(StationKind.WIFI, mac, f"cafe-{i}") for i, mac in enumerate(MACS)}
    assert _published_ids(stack) == expected

    with httpx.Client(base_url=stack.url, timeout=20) as api:
        hashed = [
            {"hashedId": station_id(StationKind.WIFI, mac, f"cafe-{i}")} for i, mac in enumerate(MACS[:3])
        ]
        located = api.post("/v1/geolocate?key=test", json={"considerIp": False, "wifiAccessPoints": hashed})
        assert located.status_code == 200
        pack_entry = api.get("/v1/offline/de")
        assert pack_entry.status_code == 200 and pack_entry.json()["path"].startswith("exports/offline/")
        assert api.get("/v1/offline/ZZ").status_code == 404
        bad = api.post("/v1/geolocate?key=test", json={"wifiAccessPoints": [{"hashedId": "v7:" + "0" * 32}]})
        assert bad.status_code == 400 and bad.json()["error"]["errors"][0]["reason"] == "parseError"

        # Offline: the pack built from the same tables answers the same scan.
        pack = tmp_path / "DE.sqlite"
        assert main(["offline", "build", "--region", "de", "--out", str(pack)]) == 0
        capsys.readouterr()
        args = [a for i, mac in enumerate(MACS[:3]) for a in ("--wifi", f"{mac},cafe-{i}")]
        assert main(["offline", "locate", "--pack", str(pack), *args]) == 0
        offline = json.loads(capsys.readouterr().out)
        assert abs(offline["location"]["lat"] - located.json()["location"]["lat"]) < 0.001

        # The owner of network 0 renames it "cafe-0_nomap"; a stumbler submits a scan.
        item = {
            "timestamp": int(time.time() * 1000),
            "position": {"latitude": CENTER[0], "longitude": CENTER[1], "accuracy": 10},
            "wifiAccessPoints": [
                {"macAddress": MACS[0], "ssid": "cafe-0_nomap", "signalStrength": -50},
                {"macAddress": MACS[1], "ssid": "cafe-1", "signalStrength": -60},
            ],
        }
        assert api.post("/v2/geosubmit", json={"items": [item]}).status_code == 200

    stations = DynamoStationStore(stack.settings)
    deadline = time.monotonic() + 30
    while stations.get_stations([f"wifi#{MACS[0]}"])[f"wifi#{MACS[0]}"].optout_last is None:
        assert time.monotonic() < deadline, "opt-out not aggregated in time"
        time.sleep(0.2)
    withdrawn = stations.get_stations([f"wifi#{MACS[0]}"])[f"wifi#{MACS[0]}"]
    assert withdrawn.lat is None and withdrawn.name_hash is None
    assert not stations.get_stations([f"hash#wifi#{station_digest('wifi', MACS[0], 'cafe-0')}"])
    _publish(stack)
    assert _published_ids(stack) == expected - {station_id(StationKind.WIFI, MACS[0], "cafe-0")}
