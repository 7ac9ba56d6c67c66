"""Redis is a cache and a limiter, never a source of truth: stopping it degrades nothing but
the heartbeat, which names it; when it is back, the heartbeat recovers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openloc.local.stack import LocalStack

pytestmark = pytest.mark.integration

WIFI = {"wifiAccessPoints": [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]}


def test_redis_outage_and_recovery(
    stack: LocalStack, api: httpx.Client, wait_for: Callable[..., Any]
) -> None:
    assert api.get("/__heartbeat__").status_code == 200
    stack.valkey.stop()
    try:
        heartbeat = api.get("/__heartbeat__")
        assert heartbeat.status_code == 503
        assert heartbeat.json()["redis"] == {"up": False, "time": -1}
        assert heartbeat.json()["database"]["up"] is True
        assert api.get("/__lbheartbeat__").status_code == 200
        # a key never seen before must still be checked (DynamoDB) and locate must answer
        assert api.post("/v1/geolocate?key=test", json=WIFI).status_code == 200
        assert api.post("/v1/geolocate?key=other", json=WIFI).status_code == 400
        assert api.post("/v2/geosubmit", json={"items": []}).status_code == 200
    finally:
        stack.valkey.start()
    wait_for(lambda: api.get("/__heartbeat__").status_code == 200, timeout=15)
