"""The data-integrity defects, as an anonymous client reproduced them against `make run`:
one report from far away must not withdraw, block or move an established demo station
(docs/abuse.md). Each report goes through the real API, queue and aggregator."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from openloc.local.stack import LocalStack
from openloc.store.stations import DynamoStationStore

from tests.integration.conftest import Waiter

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WIFI_QUERY = json.loads((ROOT / "docs/examples/geolocate-wifi.json").read_text())
CELL_QUERY = json.loads((ROOT / "docs/examples/geolocate-cell.json").read_text())
PARIS, MUNICH, TEN_KM_SOUTH = (48.8566, 2.3522), (48.1372, 11.5756), (52.43, 13.41)


def report(where: tuple[float, float], **networks: Any) -> dict[str, Any]:
    position = {"latitude": where[0], "longitude": where[1], "accuracy": 10.0}
    return {"items": [{"timestamp": int(time.time() * 1000), "position": position, **networks}]}


def submit(api: httpx.Client, body: dict[str, Any], address: str) -> None:
    response = api.post("/v2/geosubmit", json=body, headers={"X-Forwarded-For": address})
    assert response.status_code == 200, response.text


def answers(api: httpx.Client) -> tuple[Any, Any]:
    wifi = api.post("/v1/geolocate?key=test", json=WIFI_QUERY)
    cell = api.post("/v1/geolocate?key=test", json=CELL_QUERY)
    assert wifi.status_code == cell.status_code == 200
    return wifi.json(), cell.json()


def test_one_far_report_changes_no_established_station(
    stack: LocalStack, api: httpx.Client, wait_for: Waiter
) -> None:
    before = answers(api)
    stations = DynamoStationStore.from_settings(stack.settings)
    keys = ["wifi#001a2b000000", "wifi#001a2b000001", "wifi#001a2b000003", "cell#lte#262#01#4711#26866945"]
    # Paris: the Berlin access point 00:1a:2b:00:00:00 (45 samples) with an opt-out SSID.
    optout = {"macAddress": "00:1a:2b:00:00:00", "ssid": "x_nomap", "signalStrength": -60}
    submit(api, report(PARIS, wifiAccessPoints=[optout]), "81.2.69.160")
    # 10 km south: two established demo access points (101 and 177 samples).
    wifis = [{"macAddress": f"00:1a:2b:00:00:0{i}", "signalStrength": -60} for i in (1, 3)]
    submit(api, report(TEN_KM_SOUTH, wifiAccessPoints=wifis), "81.2.69.161")
    # Munich: the demo LTE cell (500 samples), from another network.
    cell = {"radioType": "lte", "mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 4711,
            "cellId": 26866945, "signalStrength": -90}  # fmt: skip
    submit(api, report(MUNICH, cellTowers=[cell]), "2001:db8:77::1")

    def evidence_kept() -> bool:
        found = stations.get_stations(keys)
        return found[keys[0]].optout_evidence is not None and all(
            found[k].challenge is not None for k in keys[1:]
        )

    wait_for(evidence_kept, timeout=60)
    found = stations.get_stations(keys)
    assert all(found[k].positioned and found[k].optout_last is None for k in keys)
    assert answers(api) == before  # withdrawn, blocked or moved: none of them
