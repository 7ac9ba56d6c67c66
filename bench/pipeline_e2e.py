"""End to end on the local stack: observations per second from geosubmit until locatable.

Run: `.venv/bin/python bench/pipeline_e2e.py [--reports N]`. Starts the embedded stack in this
process (moto server, Valkey, API, SQS poller feeding the real aggregate handler), posts N
reports (gzip, 100 per request, ~16 networks each) to /v2/geosubmit on 127.0.0.1, then polls
/v1/geolocate until every submitted access point is located. Bounded: gives up after 10 min.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from typing import Any

import httpx
from openloc.local.stack import LocalStack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(3)
    macs = [f"00aa{i:08x}" for i in range(args.reports // 2)]
    items: list[dict[str, Any]] = []
    for _ in range(args.reports):
        lat, lon = 45.0 + rng.random() * 0.001, 7.0 + rng.random() * 0.001
        seen = rng.sample(macs, min(16, len(macs)))
        items.append(
            {"timestamp": int(time.time() * 1000), "position": {"latitude": lat, "longitude": lon, "accuracy": 5},
             "wifiAccessPoints": [{"macAddress": m, "signalStrength": -70} for m in seen]}
        )  # fmt: skip
    observations = sum(len(i["wifiAccessPoints"]) for i in items)
    stack = LocalStack(data_dir=None, port=0, run_scheduler=False, env={"GEOIP_PATH": ""})
    with stack, httpx.Client(base_url=stack.url, timeout=60) as api:
        start = time.perf_counter()
        for i in range(0, len(items), 100):
            body = gzip.compress(json.dumps({"items": items[i : i + 100]}).encode())
            assert (
                api.post("/v2/geosubmit", content=body, headers={"Content-Encoding": "gzip"}).status_code
                == 200
            )
        submitted = time.perf_counter() - start
        probe = [{"macAddress": m} for m in macs[-2:]]
        deadline = time.monotonic() + 600
        while api.post("/v1/geolocate?key=test", json={"wifiAccessPoints": probe}).status_code != 200:
            assert time.monotonic() < deadline, "not visible within 10 minutes"
            time.sleep(0.2)
        # the queue is drained when every message was received and deleted
        while stack.poller is not None and _queue_depth(stack) > 0:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        visible = time.perf_counter() - start
    print(
        "| reports | observations | submit s | until aggregated s | obs/s end to end |\n|---|---|---|---|---|"
    )
    print(
        f"| {len(items)} | {observations} | {submitted:.1f} | {visible:.1f} | {observations / visible:,.0f} |"
    )


def _queue_depth(stack: LocalStack) -> int:
    from openloc.store.aws import client

    attributes = client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


if __name__ == "__main__":
    main()
