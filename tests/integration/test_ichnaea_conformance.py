"""Ichnaea's own requests replayed on the local stack as a new user meets it: the deployed key
policy (`OPENLOC_KEY_POLICY=required`), a real GeoIP file, requests through the API Gateway
emulation into the Lambda handlers, submissions through SQS into the aggregator. One test per
divergence the replay of Ichnaea's API tests found (docs/api.md, "Differences from Ichnaea")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openloc.local.stack import LocalStack
from openloc.model.records import ApiKeyRecord
from openloc.store.api_keys import DynamoApiKeyStore
from openloc.store.pynamodb_tables import bind_models
from openloc.store.stations import DynamoStationStore

from tests.geoip_files import LONDON, write_city_mmdb
from tests.integration.conftest import Waiter

pytestmark = pytest.mark.integration

LONDON_IP = {"X-Forwarded-For": "81.2.69.142"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Overrides conftest's `stack`: its `api` fixture then talks to this one."""
    geoip = write_city_mmdb(tmp_path_factory.mktemp("geoip") / "city.mmdb")
    local = LocalStack(
        data_dir=None,
        port=0,
        run_scheduler=False,
        visibility_timeout=1,
        env={"OPENLOC_KEY_POLICY": "required", "GEOIP_PATH": geoip},
    )
    with local:
        bind_models(local.settings)
        DynamoApiKeyStore().put(ApiKeyRecord(key="three-a-day", maxreq=3))
        yield local


def test_area_lookup_without_a_cell_id(api: httpx.Client) -> None:
    area = {"radioType": "lte", "mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 4711}
    response = api.post("/v1/geolocate?key=test", json={"cellTowers": [area]})
    assert response.status_code == 200
    assert response.json()["fallback"] == "lacf"
    with_unknown_cell = api.post("/v1/geolocate?key=test", json={"cellTowers": [{**area, "cellId": 999}]})
    assert response.json() == with_unknown_cell.json()


def _station(stack: LocalStack, key: str) -> Any:
    return DynamoStationStore(stack.settings).get_stations([key]).get(key)


def test_v2_item_level_radio_type_is_learned(api: httpx.Client, stack: LocalStack, wait_for: Waiter) -> None:
    tower = {"mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 31, "cellId": 3107}
    item = {"position": {"latitude": 52.52, "longitude": 13.41}, "radioType": "gsm", "cellTowers": [tower]}
    assert api.post("/v2/geosubmit", json={"items": [item]}).json() == {}
    assert wait_for(lambda: _station(stack, "cell#gsm#262#01#31#3107"))


@pytest.mark.parametrize(
    ("path", "item", "key"),
    [
        (
            "/v2/geosubmit",
            {"timestamp": 146_000_000_000, "position": {"latitude": 52.52, "longitude": 13.41},
             "bluetoothBeacons": [{"macAddress": "c0:ff:ee:19:74:01"}]},
            "blue#c0ffee197401",
        ),
        (
            "/v1/submit",
            {"time": "1710-02-28", "lat": 52.52, "lon": 13.41, "blue": [{"key": "c0ffee171001"}]},
            "blue#c0ffee171001",
        ),
    ],
)  # fmt: skip
def test_a_report_from_a_broken_clock_is_learned_now(
    api: httpx.Client, stack: LocalStack, wait_for: Waiter, path: str, item: dict[str, Any], key: str
) -> None:
    """Dropped as 90 days old before; now kept with the time it was received (the unit tests in
    tests/unit/api check that time) and aggregated like any report."""
    assert api.post(path, json={"items": [item]}).status_code in (200, 204)
    assert wait_for(lambda: _station(stack, key))


def test_get_is_the_ip_query_with_the_same_key_and_daily_limit(api: httpx.Client) -> None:
    expected = {"location": {"lat": LONDON[0], "lng": LONDON[1]}, "accuracy": 25_000.0, "fallback": "ipf"}
    assert api.get("/v1/geolocate?key=three-a-day", headers=LONDON_IP).json() == expected
    assert api.post("/v1/geolocate?key=three-a-day", headers=LONDON_IP).json() == expected
    assert api.get("/v1/geolocate?key=three-a-day", headers=LONDON_IP).status_code == 200
    over = api.get("/v1/geolocate?key=three-a-day", headers=LONDON_IP)  # GET and POST count together
    assert over.status_code == 403 and over.json()["error"]["errors"][0]["reason"] == "dailyLimitExceeded"
    assert api.get("/v1/country?key=test", headers=LONDON_IP).json() == {
        "country_code": "GB",
        "country_name": "United Kingdom",
        "fallback": "ipf",
    }
    assert api.get("/v1/search?key=test", headers=LONDON_IP).json()["status"] == "ok"
    keyless = api.get("/v1/geolocate", headers={**LONDON_IP, "User-Agent": "microG/0.3.1"})
    assert keyless.status_code == 400 and keyless.json()["error"]["errors"][0]["reason"] == "keyInvalid"


@pytest.mark.parametrize(
    ("path", "allow"),
    [("/v1/geolocate", "GET, HEAD, OPTIONS, POST"), ("/v2/geosubmit", "OPTIONS, POST"),
     ("/__lbheartbeat__", "GET, HEAD, OPTIONS")],
)  # fmt: skip
def test_options_without_origin(api: httpx.Client, path: str, allow: str) -> None:
    response = api.options(path)
    assert response.status_code == 200
    assert response.headers["allow"] == allow
    assert response.headers["access-control-allow-origin"] == "*"


def test_heartbeat_reports_the_geoip_database(api: httpx.Client) -> None:
    response = api.get("/__heartbeat__")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["database", "geoip", "redis"]
    assert body["geoip"]["up"] is True and body["geoip"]["age_in_days"] == 0
