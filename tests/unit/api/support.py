"""Helpers of the in-process HTTP tests: request bodies, the error envelope, the queued reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from openloc.api.keys import KeyCachePolicy, KeyChecker
from openloc.api.services import Services, country_radius_m
from openloc.ingest.demo_seed import DEMO_CELLS, WIFI_PREFIX, demo_mac
from openloc.locate.geoip import from_path
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import ApiKeyStore, MemoryApiKeyStore
from openloc.store.counters import CounterStore, MemoryCounters
from openloc.store.key_cache import KeyCache, MemoryKeyCache
from openloc.store.queue import MemoryObservationQueue
from starlette.testclient import TestClient

Client = Callable[[Services], TestClient]


class CountingKeys(MemoryApiKeyStore):
    """In-memory keys that count lookups (each is a DynamoDB GetItem in the deployed store)."""

    def __init__(self, *records: ApiKeyRecord) -> None:
        super().__init__(*records)
        self.gets = 0

    def get(self, key: str) -> ApiKeyRecord | None:
        self.gets += 1
        return super().get(key)


def key_checker(
    store: ApiKeyStore,
    *,
    cache: KeyCache | None = None,
    counters: CounterStore | None = None,
    policy: KeyCachePolicy | None = None,
    hash_key: str = "openloc",
    clock: Callable[[], float] | None = None,
    wall_clock: Callable[[], float] | None = None,
) -> KeyChecker:
    """A KeyChecker on in-memory twins (shared cache and counters unless given), the twins on the
    same clocks as the checker."""
    extra: dict[str, Any] = {}
    if clock is not None:
        extra["clock"] = clock
    if wall_clock is not None:
        extra["wall_clock"] = wall_clock
    return KeyChecker(
        store,
        cache if cache is not None else MemoryKeyCache(*(c for c in [clock] if c is not None)),
        counters if counters is not None else MemoryCounters(*(c for c in [wall_clock] if c is not None)),
        policy or KeyCachePolicy(),
        lambda: hash_key,
        **extra,
    )


def wifi_body(*indexes: int) -> dict[str, Any]:
    return {
        "wifiAccessPoints": [
            {"macAddress": demo_mac(WIFI_PREFIX, i), "signalStrength": -60 - i} for i in indexes
        ]
    }


def lte_tower(cid: int) -> dict[str, Any]:
    cell = DEMO_CELLS[0]
    return {
        "radioType": "lte",
        "mobileCountryCode": cell.mcc,
        "mobileNetworkCode": int(cell.mnc),
        "locationAreaCode": cell.lac,
        "cellId": cid,
        "signalStrength": -90,
    }


def assert_envelope(response: Any, status: int, domain: str, reason: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == status
    (detail,) = body["error"]["errors"]
    assert (detail["domain"], detail["reason"]) == (domain, reason)
    assert detail["message"] == body["error"]["message"]


def reports_in(queue: MemoryObservationQueue) -> list[dict[str, Any]]:
    return [r for message in queue.messages for r in json.loads(message)["reports"]]


def v2_item(now_ms: int, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "timestamp": now_ms - 5_000,
        "position": {"latitude": 52.52, "longitude": 13.41, "accuracy": 10},
        "wifiAccessPoints": [{"macAddress": "00:1a:2b:aa:00:01"}, {"macAddress": "00:1a:2b:aa:00:02"}],
    }
    item.update(overrides)
    return item


def _services(
    make_services: Callable[..., Services], geoip_file: str | None = None, **settings: Any
) -> Services:
    geoip = from_path(geoip_file, country_radius=country_radius_m) if geoip_file else None
    return make_services(settings=Settings(**settings), geoip=geoip)
