"""The local stack with its website: CloudFront-like serving of the assets bucket next to the API,
tiles and stats rendered at start, and an incremental tiles run after new observations."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from openloc.geo.datamap import grid_cell
from openloc.ingest.demo_seed import CENTER
from openloc.jobs.registry import SCHEDULES
from openloc.local.functions import invoke
from openloc.local.poller import sqs_event
from openloc.local.scheduler import Scheduler
from openloc.local.stack import LocalStack
from openloc.publish.tile_blocks import BLOCKS_KEY
from openloc.publish.tile_set import PMTILES_KEY, tile_key
from openloc.publish.tiles import CoverageGrid, tile_for, tiles_touched
from openloc.store.aws import client

pytestmark = pytest.mark.integration

PARIS = (48.8584, 2.2945)


@pytest.fixture
def web(site_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site_stack.url, timeout=20) as http:
        yield http


def test_site_pages_and_data_served_with_headers(web: httpx.Client) -> None:
    index = web.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert index.headers["x-content-type-options"] == "nosniff"
    assert "vendor/leaflet/leaflet.js" in index.text and "https://" not in index.text.split("<footer")[0]
    leaflet = web.get("/vendor/leaflet/leaflet.js")
    assert leaflet.status_code == 200 and leaflet.headers["cache-control"] == "public, max-age=86400"
    stats = web.get("/stats.json")
    assert stats.status_code == 200 and len(stats.json()["days"]) > 0
    x, y = tile_for(*CENTER, 13)
    tile = web.get(f"/{tile_key(13, x, y)}")
    assert (tile.status_code, tile.headers["content-type"]) == (200, "image/png")
    assert tile.headers["cache-control"] == "public, max-age=3600"
    assert web.get("/missing.html").status_code == 404
    assert web.post("/index.html").status_code == 405
    head = web.head("/")
    assert head.status_code == 200 and head.content == b""


def test_pmtiles_archive_answers_range_requests(web: httpx.Client) -> None:
    whole = web.get(f"/{PMTILES_KEY}")
    part = web.get(f"/{PMTILES_KEY}", headers={"Range": "bytes=0-126"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 0-126/{len(whole.content)}"
    assert part.content == whole.content[:127] and part.content.startswith(b"PMTiles\x03")


def test_api_paths_still_reach_the_functions(web: httpx.Client) -> None:
    assert web.get("/__lbheartbeat__").json() == {"status": "OK"}
    assert web.get("/openapi.json").json()["openapi"].startswith("3.")
    answer = web.post("/v1/geolocate", json={"considerIp": False})  # the locate function, not the bucket
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["code"] in (400, 404)


def test_new_coverage_renders_only_changed_tiles(site_stack: LocalStack, web: httpx.Client) -> None:
    first = site_stack.startup_results["tiles"]
    assert first["full"] and first["written"] > 0
    s3 = client("s3")
    # the stack runs the sharded job: its record of the blocks drawn is private
    assert s3.head_object(Bucket=site_stack.settings.archive_bucket, Key=BLOCKS_KEY)
    x, y = tile_for(*PARIS, 13)
    assert web.get(f"/{tile_key(13, x, y)}").status_code == 404
    report = {
        "timestamp": int(time.time() * 1000),
        "latitude": PARIS[0],
        "longitude": PARIS[1],
        "accuracy": 10.0,
        "wifi": [{"mac": "0000c0fe0001", "signal": -60}, {"mac": "0000c0fe0002", "signal": -70}],
    }
    message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "local",
        "Body": json.dumps({"reports": [report]}),
        "Attributes": {
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
            "ApproximateReceiveCount": "1",
        },
    }
    event = sqs_event([message], "arn:aws:sqs:us-east-1:000000000000:openloc-observations", "us-east-1")
    assert invoke(site_stack.handler("aggregate"), "aggregate", event) == {"batchItemFailures": []}

    runner = Scheduler(site_stack.handler("export"), "us-east-1")
    second = runner.run_now(next(s for s in SCHEDULES if s.task == "tiles"))
    assert not second["full"] and second["changed_cells"] == 1
    assert second["cells"] == first["cells"] + 1
    # Exactly the tiles the new cell touches are rendered, at every zoom; nothing else.
    new_cell = CoverageGrid.from_grids([grid_cell(*PARIS)[1]])
    assert second["rendered"] == sum(len(tiles_touched(new_cell, z)) for z in range(14))
    assert web.get(f"/{tile_key(13, x, y)}").status_code == 200
    berlin = tile_for(*CENTER, 13)
    assert web.get(f"/{tile_key(13, *berlin)}").status_code == 200
