"""Real-size submissions end to end on the local stack (API Gateway emulation, moto SQS, poller,
aggregator): the full upload of the current Android stumbler, and the largest compressed body
the limits admit. Both used to fail: the first with a 503 on every retry (SendMessageBatch over
SQS's 1 MiB batch limit), the second could not reach the function at all (6 MiB event)."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openloc.local.stack import LocalStack
from openloc.model.keys import CellId, normalize_mac, wifi_key
from openloc.model.kinds import Radio
from openloc.store.aws import client
from openloc.store.queue import MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES, SqsObservationQueue
from openloc.store.stations import DynamoStationStore

from bench.world.batch import encode, stumbler_batch

pytestmark = pytest.mark.integration

NETWORKS = 300  # the walk goes round the same blocks: few stations, so moto aggregates it quickly


@pytest.fixture
def sent_batches(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The body sizes of every SendMessageBatch the submit function makes (it runs in this process)."""
    sizes: list[list[int]] = []
    real = SqsObservationQueue._send_batch

    def recording(self: SqsObservationQueue, bodies: list[str]) -> None:
        sizes.append([len(b.encode()) for b in bodies])
        real(self, bodies)

    monkeypatch.setattr(SqsObservationQueue, "_send_batch", recording)
    return sizes


def _archived_reports(stack: LocalStack, since: str) -> list[dict[str, Any]]:
    s3 = client("s3")
    bucket = stack.settings.archive_bucket
    reports: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="observations/"):
        for item in page.get("Contents", []):
            if item["LastModified"].isoformat() < since:
                continue
            text = gzip.decompress(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()).decode()
            reports += [json.loads(line) for line in text.splitlines() if line]
    return reports


def test_a_full_stumbler_upload_is_accepted_queued_within_the_limits_and_aggregated(
    api: httpx.Client, stack: LocalStack, wait_for: Callable[..., Any], sent_batches: list[list[int]]
) -> None:
    now_ms = int(time.time() * 1000)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 2))
    body = stumbler_batch(now_ms, networks=NETWORKS)
    payload = encode(body)
    response = api.post("/v2/geosubmit", content=payload, headers={"Content-Encoding": "gzip"}, timeout=60)
    assert response.status_code == 200, response.text

    # ~1.6 MB of queued reports: 7 messages, more than one SendMessageBatch can carry (1 MiB)
    assert len(sent_batches) >= 2 and sum(len(b) for b in sent_batches) >= 5
    for sizes in sent_batches:
        assert len(sizes) <= MAX_BATCH_ENTRIES
        assert sum(sizes) <= MAX_BATCH_BYTES
        assert max(sizes) <= MAX_MESSAGE_BYTES

    archived = wait_for(lambda: (r := _archived_reports(stack, since)) and len(r) >= 2_000 and r, timeout=240)
    assert len(archived) == 2_000  # each report archived once
    assert {r["timestamp"] for r in archived} == {i["timestamp"] for i in body["items"]}

    macs = {normalize_mac(w["macAddress"]) for i in body["items"] for w in i["wifiAccessPoints"]}
    cells = {
        CellId(
            Radio.LTE,
            c["mobileCountryCode"],
            f"{c['mobileNetworkCode']:02d}",
            c["locationAreaCode"],
            c["cellId"],
        )
        for i in body["items"]
        for c in i["cellTowers"]
    }
    keys = [wifi_key(m) for m in macs if m] + [c.key for c in cells]
    stations = DynamoStationStore(stack.settings)

    def all_stations() -> bool:
        found = stations.get_stations(keys)
        return len(found) == len(keys)

    wait_for(all_stations, timeout=120, interval=1.0)


def test_the_largest_compressed_body_the_limits_admit_goes_end_to_end(
    api: httpx.Client, stack: LocalStack, wait_for: Callable[..., Any]
) -> None:
    """A full upload padded to SUBMIT_BODY_LIMIT bytes of gzip (stored blocks, so it does not shrink)
    crosses the API Gateway emulation (base64 in a ≤ 6 MiB event) and is accepted; one byte more
    is the function's 413, and a body whose event would exceed 6 MiB never reaches the function."""
    limit = stack.settings.submit_body_limit
    now_ms = int(time.time() * 1000)
    body = stumbler_batch(now_ms, reports=200, seed=7, networks=NETWORKS)
    text = json.dumps(body, separators=(",", ":"))
    pad = limit - len(gzip.compress(text.encode(), compresslevel=0))
    while (
        len(data := gzip.compress(f'{text[:-1]},"padding":"{"x" * pad}"}}'.encode(), compresslevel=0))
        != limit
    ):
        pad += limit - len(data)
    headers = {"Content-Encoding": "gzip"}
    response = api.post("/v2/geosubmit", content=data, headers=headers, timeout=60)
    assert response.status_code == 200, response.text

    over = api.post("/v2/geosubmit", content=data + b"\0", headers=headers, timeout=60)
    assert over.status_code == 413 and over.json()["error"]["errors"][0]["reason"] == "payloadTooLarge"
    too_long = api.post("/v2/geosubmit", content=data + b"\0" * 4096, headers=headers, timeout=60)
    assert (too_long.status_code, too_long.json()) == (413, {"message": "Request Too Long"})

    first = normalize_mac(body["items"][0]["wifiAccessPoints"][0]["macAddress"])
    assert first is not None
    stations = DynamoStationStore(stack.settings)
    wait_for(lambda: stations.get_stations([wifi_key(first)]), timeout=120, interval=1.0)
