"""`POST /v1/transfer`: key permission, envelopes for bad input, weighted merge, idempotency."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import pytest
from openloc.api.services import Services
from openloc.model.records import ApiKeyRecord
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.processed import MemoryProcessedMessages
from openloc.store.stations import MemoryStationStore
from starlette.testclient import TestClient

CELL_KEY = "cell#lte#262#01#4711#99"


AREA_KEY = "area#lte#262#01#4711"


def cell_item(**kw: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "radio": "LTE", "mcc": 262, "net": 1, "area": 4711, "cell": 99, "unit": 7,
        "lon": 13.40, "lat": 52.50, "range": 700, "samples": 40, "created": 1_700_000_000, "updated": 1_760_000_000,
    }  # fmt: skip
    item.update(kw)
    return item


@pytest.fixture
def transfer_client(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient]
) -> tuple[TestClient, MemoryStationStore, MemoryProcessedMessages]:
    stations = MemoryStationStore()
    processed = MemoryProcessedMessages()
    keys = MemoryApiKeyStore(ApiKeyRecord(key="peer", allow_transfer=True), ApiKeyRecord(key="plain"))
    services = make_services(stations=stations, api_keys=keys, processed=processed)
    return make_client(services), stations, processed


def error_reason(response: Any) -> tuple[int, str]:
    body = response.json()["error"]
    assert body["code"] == response.status_code
    return response.status_code, body["errors"][0]["reason"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", (400, "keyInvalid")),
        ("?key=unknown", (400, "keyInvalid")),
        ("?key=plain", (403, "transferNotAllowed")),
    ],
)
def test_key_needs_transfer_permission(transfer_client: Any, query: str, expected: tuple[int, str]) -> None:
    client, stations, _ = transfer_client
    response = client.post(f"/v1/transfer{query}", json={"batch": "b1", "cells": [cell_item()]})
    assert error_reason(response) == expected
    assert stations.stations == {}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"not json", (400, "parseError")),
        (b"[]", (400, "parseError")),
        (b'{"cells": []}', (400, "invalidItems")),  # no batch id
        (b'{"batch": "b", "cells": [{"radio": "LTE"}]}', (400, "invalidItems")),
        (b'{"batch": "b", "wifi": []}', (400, "invalidItems")),  # unknown field
        (b'{"batch": "b c", "cells": []}', (400, "invalidItems")),
    ],
)
def test_bad_bodies_get_envelopes(transfer_client: Any, body: bytes, expected: tuple[int, str]) -> None:
    client, _, _ = transfer_client
    assert error_reason(client.post("/v1/transfer?key=peer", content=body)) == expected


def test_invalid_item_rejects_batch_and_names_it(transfer_client: Any) -> None:
    client, stations, _ = transfer_client
    response = client.post(
        "/v1/transfer?key=peer", json={"batch": "b1", "cells": [cell_item(), cell_item(lat=123)]}
    )
    assert error_reason(response) == (400, "invalidItems")
    assert "cells.1.lat" in response.json()["error"]["message"]
    assert stations.stations == {}


def test_too_many_items(transfer_client: Any) -> None:
    client, _, _ = transfer_client
    cells = [cell_item(cell=i) for i in range(1, 502)]
    assert error_reason(client.post("/v1/transfer?key=peer", json={"batch": "b", "cells": cells})) == (
        413,
        "payloadTooLarge",
    )


def test_the_item_count_is_checked_before_any_item_is_validated(transfer_client: Any) -> None:
    """501 invalid items: 413 (counted on the parsed lists), not the 400 validation would give."""
    client, stations, _ = transfer_client
    invalid = {"cells": [{"lat": "x"}] * 300, "stations": [{}] * 150, "areas": [1] * 51}
    response = client.post("/v1/transfer?key=peer", json={"batch": "b", **invalid})
    assert error_reason(response) == (413, "payloadTooLarge")
    assert "more than 500 items" in response.json()["error"]["message"]
    body = gzip.compress(b'{"batch":"b","cells":[' + b",".join([b"{}"] * 10**6) + b"]}", 9)
    response = client.post("/v1/transfer?key=peer", content=body, headers={"content-encoding": "gzip"})
    assert error_reason(response) == (413, "payloadTooLarge")
    assert stations.stations == {}


def test_merge_new_then_weighted_and_idempotent(transfer_client: Any) -> None:
    client, stations, processed = transfer_client
    body = {
        "batch": "peer-1",
        "cells": [cell_item()],
        "stations": [{"kind": "wifi", "mac": "00:1A:2B:00:00:01", "lat": 52.5, "lon": 13.4, "range": 50, "samples": 5}],
        "areas": [
            {"radio": "LTE", "mcc": 262, "net": 1, "area": 4711, "lat": 1.0, "lon": 1.0, "range": 5, "numCells": 9},
            {"radio": "GSM", "mcc": 262, "net": "03", "area": 12, "lat": 52.0, "lon": 13.0, "range": 3000,
             "avgCellRange": 900, "numCells": 4, "updated": 1_760_000_000},
        ],
    }  # fmt: skip
    response = client.post("/v1/transfer?key=peer", json=body)
    assert response.status_code == 200 and response.json() == {}
    cell = stations.stations[CELL_KEY]
    assert (cell.lat, cell.lon, cell.samples, cell.psc) == (52.5, 13.4, 40, 7)
    assert abs(cell.radius - 700) <= 2 and cell.region == "DE"
    assert "wifi#001a2b000001" in stations.stations
    # The area with a local cell is computed from the cells, not taken from the item.
    assert stations.areas[AREA_KEY].num_cells == 1 and stations.areas[AREA_KEY].lat == 52.5
    foreign = stations.areas["area#gsm#262#03#12"]
    assert (foreign.num_cells, foreign.radius, foreign.avg_cell_radius) == (4, 3000.0, 900.0)
    assert processed.seen("transfer:peer-1")

    # The same batch again changes nothing.
    before = stations.stations[CELL_KEY]
    assert client.post("/v1/transfer?key=peer", json=body).status_code == 200
    assert stations.stations[CELL_KEY] == before

    # A second batch is merged with the weighted update: 40 vs 40 samples → halfway.
    second = {"batch": "peer-2", "cells": [cell_item(lat=52.51, samples=40)]}
    assert client.post("/v1/transfer?key=peer", json=second).status_code == 200
    merged = stations.stations[CELL_KEY]
    assert merged.samples == 80 and merged.lat == pytest.approx(52.505)


@pytest.mark.parametrize("mac", ["02:00:00:00:00:02", "01:00:5e:00:00:03"])
def test_transfer_refuses_wifi_macs_no_station_may_have(transfer_client: Any, mac: str) -> None:
    """The aggregator's rule (`model.keys.storable_mac`): a locally administered or multicast MAC
    identifies a phone or a group, not a place."""
    client, stations, _ = transfer_client
    item = {"kind": "wifi", "mac": mac, "lat": 52.5, "lon": 13.4, "range": 50, "samples": 5}
    response = client.post("/v1/transfer?key=peer", json={"batch": "priv", "stations": [item]})
    assert (
        error_reason(response) == (400, "invalidItems")
        and "stations.0" in response.json()["error"]["message"]
    )
    assert stations.stations == {}


def test_transfer_does_not_restore_a_station_its_owner_withdrew(transfer_client: Any) -> None:
    from datetime import UTC, datetime

    from openloc.model.records import StationRecord

    client, stations, _ = transfer_client
    today = datetime.now(UTC).date().isoformat()
    stations.put_stations([StationRecord(key="wifi#001a2b000009", optout_last=today, version=3)])
    item = {"kind": "wifi", "mac": "00:1a:2b:00:00:09", "lat": 52.5, "lon": 13.4, "range": 50, "samples": 5}
    assert client.post("/v1/transfer?key=peer", json={"batch": "back", "stations": [item]}).status_code == 200
    stored = stations.stations["wifi#001a2b000009"]
    assert not stored.positioned and stored.optout_last == today and stored.version == 3
