"""The ASGI app in-process: keyless access, region caching hints, IPv6 client addresses
(forwarded, and as API Gateway's sourceIp through Mangum) and the lenient parsing cases."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from mangum import Mangum
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from openloc.api.app import build_app
from openloc.api.services import Services, country_radius_m
from openloc.geo.distance import haversine_m
from openloc.ingest.demo_seed import CENTER, DEMO_CELLS, WIFI_PREFIX, demo_mac
from openloc.local.lambda_proxy import api_gateway_event
from openloc.locate.geoip import from_path
from openloc.settings import Settings
from openloc.store.queue import MemoryObservationQueue

from tests.unit.test_app import assert_envelope, lte_tower, reports_in, wifi_body

if TYPE_CHECKING:
    from starlette.testclient import TestClient

Client = Callable[[Services], "TestClient"]
MANCHESTER = (53.4794, -2.2453)
LONDON = (51.5142, -0.0931)


@pytest.fixture(scope="module")
def geoip_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", languages=["en"], ipv4_compatible=True)
    for network, (lat, lon), city in [
        ("81.2.69.0/24", LONDON, "London"),
        ("2a02:c7f::/32", MANCHESTER, "Manchester"),
    ]:
        writer.insert_network(
            IPSet([network]),
            {
                "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
                "city": {"names": {"en": city}},
                "location": {"latitude": lat, "longitude": lon},
            },
        )
    path = tmp_path_factory.mktemp("geoip") / "test-city.mmdb"
    writer.to_db_file(str(path))
    return str(path)


def _services(
    make_services: Callable[..., Services], geoip_file: str | None = None, **settings: Any
) -> Services:
    geoip = from_path(geoip_file, country_radius=country_radius_m) if geoip_file else None
    return make_services(settings=Settings(**settings), geoip=geoip)


# --- access policy --------------------------------------------------------------------------


def test_optional_policy_serves_keyless_clients_with_a_user_agent(
    make_services: Callable[..., Services], make_client: Client
) -> None:
    client = make_client(_services(make_services, openloc_key_policy="optional"))
    response = client.post("/v1/geolocate", json=wifi_body(9, 10), headers={"User-Agent": "microG/0.3.1"})
    assert response.status_code == 200
    assert abs(response.json()["location"]["lat"] - CENTER[0]) < 0.01
    region = client.post("/v1/region", json=wifi_body(9, 10), headers={"User-Agent": "GeoClue/2.7.0"})
    assert region.json() == {"country_code": "DE", "country_name": "Germany"}
    search = client.post(
        "/v1/search",
        json={"wifi": [{"key": demo_mac(WIFI_PREFIX, i)} for i in (9, 10)]},
        headers={"User-Agent": "a/1"},
    )
    assert search.json()["status"] == "ok"
    # a key that is sent is still checked
    assert_envelope(
        client.post("/v1/geolocate?key=unknown", json={}, headers={"User-Agent": "a/1"}),
        400,
        "usageLimits",
        "keyInvalid",
    )
    assert client.post("/v1/geolocate?key=test", json=wifi_body(9, 10)).status_code == 200


@pytest.mark.parametrize("user_agent", ["", "testclient", "Mozilla"])
def test_optional_policy_without_usable_user_agent_is_a_clear_400(
    make_services: Callable[..., Services], make_client: Client, user_agent: str
) -> None:
    client = make_client(_services(make_services, openloc_key_policy="optional"))
    response = client.post("/v1/geolocate", json=wifi_body(9, 10), headers={"User-Agent": user_agent})
    assert_envelope(response, 400, "usageLimits", "userAgentRequired")
    assert "User-Agent" in response.json()["error"]["message"]


def test_required_policy_refuses_keyless_clients(client: TestClient) -> None:
    response = client.post("/v1/geolocate", json=wifi_body(9, 10), headers={"User-Agent": "microG/0.3"})
    assert_envelope(response, 400, "usageLimits", "keyInvalid")


def test_submissions_need_neither_key_nor_user_agent(
    make_services: Callable[..., Services], make_client: Client, queue: MemoryObservationQueue, now_ms: int
) -> None:
    client = make_client(_services(make_services, openloc_key_policy="optional"))
    item = {
        "timestamp": now_ms,
        "position": {"latitude": 52.52, "longitude": 13.41},
        "wifiAccessPoints": [{"macAddress": "00:1a:2b:aa:00:01"}, {"macAddress": "00:1a:2b:aa:00:02"}],
    }
    assert client.post("/v2/geosubmit", json={"items": [item]}, headers={"User-Agent": ""}).status_code == 200
    assert len(reports_in(queue)) == 1


def test_openapi_follows_the_key_policy(make_services: Callable[..., Services], make_client: Client) -> None:
    for policy, required in [("required", True), ("optional", False)]:
        doc = make_client(_services(make_services, openloc_key_policy=policy)).get("/openapi.json").json()
        geolocate = doc["paths"]["/v1/geolocate"]["post"]
        assert geolocate["parameters"][0]["required"] is required
        assert any(p["name"] == "User-Agent" for p in geolocate["parameters"]) is not required
        assert "429" in geolocate["responses"]
        assert "429" not in doc["paths"]["/v2/geosubmit"]["post"]["responses"]


# --- region caching hint --------------------------------------------------------------------


def test_region_answer_carries_a_cache_hint_and_errors_do_not(client: TestClient) -> None:
    found = client.post("/v1/region?key=test", json={"cellTowers": [lte_tower(DEMO_CELLS[0].cid)]})
    assert found.status_code == 200
    assert found.headers["cache-control"] == "private, max-age=86400"
    assert (
        client.post("/v1/country?key=test", json=wifi_body(9, 10))
        .headers["cache-control"]
        .startswith("private, max-age=")
    )
    not_found = client.post("/v1/region?key=test", json={})
    assert not_found.status_code == 404 and "cache-control" not in not_found.headers
    assert "cache-control" not in client.post("/v1/region", json={}).headers
    assert "cache-control" not in client.post("/v1/geolocate?key=test", json=wifi_body(9, 10)).headers


def test_region_cache_hint_can_be_turned_off(
    make_services: Callable[..., Services], make_client: Client
) -> None:
    client = make_client(_services(make_services, region_cache_seconds=0))
    response = client.post("/v1/region?key=test", json={"cellTowers": [lte_tower(DEMO_CELLS[0].cid)]})
    assert response.status_code == 200 and "cache-control" not in response.headers


# --- IPv6 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forwarded", "where"),
    [
        ("2a02:c7f:10::1", MANCHESTER),
        ("[2a02:c7f:10::2]:443", MANCHESTER),
        ("10.0.0.1, 2a02:c7f:ffff::3", MANCHESTER),
        ("::ffff:81.2.69.142", LONDON),
    ],
)
def test_forwarded_ipv6_address_locates_by_ip(
    make_services: Callable[..., Services],
    make_client: Client,
    geoip_file: str,
    forwarded: str,
    where: tuple[float, float],
) -> None:
    client = make_client(_services(make_services, geoip_file, trusted_proxy_hops=1))
    response = client.post("/v1/geolocate?key=test", json={}, headers={"X-Forwarded-For": forwarded})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fallback"] == "ipf"
    assert haversine_m(body["location"]["lat"], body["location"]["lng"], *where) < 1
    region = client.post("/v1/region?key=test", json={}, headers={"X-Forwarded-For": forwarded})
    assert region.json() == {"country_code": "GB", "country_name": "United Kingdom", "fallback": "ipf"}


def test_forwarded_header_is_ignored_without_trusted_proxies(
    make_services: Callable[..., Services], make_client: Client, geoip_file: str
) -> None:
    client = make_client(_services(make_services, geoip_file))
    response = client.post("/v1/geolocate?key=test", json={}, headers={"X-Forwarded-For": "2a02:c7f:10::1"})
    assert_envelope(response, 404, "geolocation", "notFound")


def test_api_gateway_ipv6_source_ip_through_mangum(
    make_services: Callable[..., Services], geoip_file: str
) -> None:
    """The Lambda path: an HTTP API (payload v2) event whose requestContext.http.sourceIp is IPv6."""
    handler = Mangum(build_app(_services(make_services, geoip_file), submit=False), lifespan="off")
    event = api_gateway_event(
        "POST",
        "/v1/region",
        "key=test",
        {"host": "api.example.org", "user-agent": "GeoClue/2.7.0", "content-type": "application/json"},
        b"{}",
        "2a02:c7f:1234:5678::9",
    )
    result = handler(event, object())  # type: ignore[arg-type]
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {
        "country_code": "GB",
        "country_name": "United Kingdom",
        "fallback": "ipf",
    }
    headers = {k.lower(): v for k, v in result["headers"].items()}
    assert headers["cache-control"] == "private, max-age=86400"


def test_behind_a_trusted_proxy_the_forwarded_address_wins_over_source_ip(
    make_services: Callable[..., Services], geoip_file: str
) -> None:
    """CloudFront in front of API Gateway: sourceIp is the edge, the viewer is the last
    X-Forwarded-For entry (TRUSTED_PROXY_HOPS=1); anything left of it is client-controlled."""
    services = _services(make_services, geoip_file, trusted_proxy_hops=1)
    handler = Mangum(build_app(services, submit=False), lifespan="off")
    headers = {"host": "api.example.org", "x-forwarded-for": "81.2.69.142, 2a02:c7f:42::1"}
    event = api_gateway_event("POST", "/v1/geolocate", "key=test", headers, b"{}", "130.176.0.1")
    body = json.loads(handler(event, object())["body"])  # type: ignore[arg-type]
    assert haversine_m(body["location"]["lat"], body["location"]["lng"], *MANCHESTER) < 1


# --- lenient parsing ------------------------------------------------------------------------


def test_cell_without_lac_or_with_unknown_radio_is_dropped_not_fatal(client: TestClient) -> None:
    no_lac = {k: v for k, v in lte_tower(DEMO_CELLS[1].cid).items() if k != "locationAreaCode"}
    unknown_radio = {**lte_tower(DEMO_CELLS[2].cid), "radioType": "cdma2000x"}
    # only the unusable cells: nothing to look up, but a clean 404, not an error about the cells
    only_bad = client.post(
        "/v1/geolocate?key=test", json={"cellTowers": [no_lac, unknown_radio], "considerIp": False}
    )
    assert_envelope(only_bad, 404, "geolocation", "notFound")
    # with a usable cell next to them, the usable cell answers exactly (no lacf fallback)
    good = lte_tower(DEMO_CELLS[0].cid)
    mixed = client.post("/v1/geolocate?key=test", json={"cellTowers": [no_lac, unknown_radio, good]})
    assert mixed.status_code == 200 and "fallback" not in mixed.json()
    # with Wi-Fi next to them, Wi-Fi answers
    with_wifi = client.post(
        "/v1/geolocate?key=test", json={**wifi_body(9, 10), "cellTowers": [no_lac, unknown_radio]}
    )
    assert with_wifi.status_code == 200 and "fallback" not in with_wifi.json()


def test_numbers_sent_as_strings_are_accepted(client: TestClient) -> None:
    cell = DEMO_CELLS[0]
    as_text = {
        "radioType": "lte",
        "mobileCountryCode": str(cell.mcc),
        "mobileNetworkCode": cell.mnc,  # "01": the string keeps the two-digit spelling
        "locationAreaCode": f" {cell.lac} ",
        "cellId": str(cell.cid),
        "signalStrength": "-90",
    }
    response = client.post("/v1/geolocate?key=test", json={"cellTowers": [as_text], "considerIp": "false"})
    assert response.status_code == 200 and "fallback" not in response.json()
    wifi = {
        "wifiAccessPoints": [
            {"macAddress": demo_mac(WIFI_PREFIX, i), "signalStrength": "-60"} for i in (9, 10)
        ]
    }
    assert client.post("/v1/geolocate?key=test", json=wifi).status_code == 200


@pytest.mark.parametrize("value", [True, "0x106", "262.5", "1_000", "nan", "٢٦٢"])
def test_ambiguous_number_text_is_dropped(client: TestClient, value: Any) -> None:
    tower = {**lte_tower(DEMO_CELLS[0].cid), "mobileCountryCode": value}
    # the cell lacks its MCC then: not looked up (and no cell-area guess), but the request is served
    response = client.post("/v1/geolocate?key=test", json={"cellTowers": [tower], "considerIp": False})
    assert_envelope(response, 404, "geolocation", "notFound")


def test_string_numbers_in_submissions(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    item = {
        "timestamp": str(now_ms),
        "position": {"latitude": "52.52", "longitude": "13.41", "accuracy": "10.5"},
        "cellTowers": [
            {
                "radioType": "lte",
                "mobileCountryCode": "262",
                "mobileNetworkCode": "01",
                "locationAreaCode": "4711",
                "cellId": "26866999",
            }
        ],
    }
    assert client.post("/v2/geosubmit", json={"items": [item]}).status_code == 200
    (report,) = reports_in(queue)
    assert (report["latitude"], report["longitude"], report["accuracy"]) == (52.52, 13.41, 10.5)
    assert report["timestamp"] == now_ms
    (cell,) = report["cells"]
    assert cell == {"radio": "lte", "mcc": 262, "mnc": "01", "lac": 4711, "cid": 26866999}


@pytest.mark.parametrize("kind", ["wifi", "cell"])
def test_wifi_only_and_cell_only_submissions_are_accepted(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int, kind: str
) -> None:
    item: dict[str, Any] = {"timestamp": now_ms, "position": {"latitude": 52.52, "longitude": 13.41}}
    if kind == "wifi":
        item["wifiAccessPoints"] = [{"macAddress": "00:1a:2b:aa:00:01"}, {"macAddress": "00:1a:2b:aa:00:02"}]
    else:
        item["cellTowers"] = [lte_tower(26866999)]
    assert client.post("/v2/geosubmit", json={"items": [item]}).status_code == 200
    legacy = {
        "items": [
            {
                "lat": 52.52,
                "lon": 13.41,
                **(
                    {"wifi": [{"key": "001a2baa0001"}, {"key": "001a2baa0002"}]}
                    if kind == "wifi"
                    else {"cell": [{"radio": "lte", "mcc": 262, "mnc": 1, "lac": 4711, "cid": 7}]}
                ),
            }
        ]
    }
    assert client.post("/v1/submit", json=legacy).status_code == 204
    reports = reports_in(queue)
    assert len(reports) == 2


@pytest.mark.parametrize("path", ["/v1/geolocate", "/v1/region", "/v1/search", "/v2/geosubmit", "/v1/submit"])
def test_get_names_the_right_method(client: TestClient, path: str) -> None:
    response = client.get(f"{path}?key=test")
    assert_envelope(response, 405, "global", "methodNotAllowed")
    assert response.headers["allow"] == "POST"
    assert "POST" in response.json()["error"]["message"]
