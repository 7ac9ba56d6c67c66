"""Hostile and malformed requests, written by hand: each gets a clear answer (a 4xx envelope, or
the lenient 2xx the contract asks for), never a 5xx, and the memory it costs stays bounded.

The plain parse errors (non-JSON, top-level arrays/strings/numbers, truncated JSON), any
Content-Type on locate, the 64 KiB locate limit and a small gzip bomb are in test_app.py.
Memory is measured with tracemalloc around in-process requests (the app runs in this process);
the bounds are generous multiples of the configured limits, not timings.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from openloc.api.keys import query_key
from openloc.api.services import Services
from openloc.store.queue import MemoryObservationQueue
from starlette.requests import Request
from starlette.testclient import TestClient

from tests.unit.test_app import assert_envelope, reports_in, v2_item, wifi_body

Client = Callable[[Services], TestClient]
MIB = 1024 * 1024
LOCATE_PATHS = ["/v1/geolocate", "/v1/region", "/v1/country", "/v1/search"]
SUBMIT_PATHS = ["/v2/geosubmit", "/v1/geosubmit", "/v1/submit"]


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Yields a one-element list that holds the traced peak (bytes) once the block is done."""
    result: list[int] = []
    tracemalloc.start()
    try:
        yield result
    finally:
        result.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


# --- not a JSON object ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p + "?key=test" for p in LOCATE_PATHS] + SUBMIT_PATHS)
@pytest.mark.parametrize("body", [b"null", b"true", b"[]", b'[{"items": []}]', b'"{}"', b"1e5"])
def test_top_level_json_that_is_not_an_object_is_a_parse_error(
    client: TestClient, path: str, body: bytes
) -> None:
    assert_envelope(client.post(path, content=body), 400, "global", "parseError")


@pytest.mark.parametrize("path", ["/v1/geolocate?key=test", "/v2/geosubmit"])
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(client: TestClient, path: str, constant: str) -> None:
    """Python's parser accepts them; RFC 8259 does not, and they must not reach the queue."""
    body = f'{{"items": [{{"position": {{"latitude": {constant}}}}}], "considerIp": {constant}}}'
    assert_envelope(client.post(path, content=body.encode()), 400, "global", "parseError")


@pytest.mark.parametrize(
    "body",
    [
        b'{"carrier": "\xff\xfe"}',  # invalid UTF-8 inside a string
        b'{"carrier": "caf\xc3"}',  # truncated multi-byte sequence
        b"\xef\xbb\xbf\xff{}",  # BOM followed by garbage
    ],
)
def test_invalid_utf8_is_a_parse_error(client: TestClient, body: bytes) -> None:
    assert_envelope(client.post("/v1/geolocate?key=test", content=body), 400, "global", "parseError")
    assert_envelope(client.post("/v2/geosubmit", content=body), 400, "global", "parseError")


def test_lone_surrogates_in_strings_are_dropped_not_fatal(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    """`\\ud800` is valid JSON syntax but no Unicode character: fields holding it are harmless."""
    locate = '{"wifiAccessPoints": [{"macAddress": "\\ud800", "ssid": "\\udfff"}], "carrier": "\\ud800"}'
    assert_envelope(client.post("/v1/geolocate?key=test", content=locate), 404, "geolocation", "notFound")
    item = v2_item(now_ms)
    item["wifiAccessPoints"][0]["ssid"] = "\ud800"
    response = client.post("/v2/geosubmit", content=json.dumps({"items": [item]}).encode())
    assert response.status_code == 200
    assert len(reports_in(queue)) == 1


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1" + "0" * 40, "-" + "9" * 30, "1e308", "-1e308", "1e-320", "4.9e-324"])
def test_huge_and_tiny_numbers_in_every_field_are_dropped(
    client: TestClient, queue: MemoryObservationQueue, number: str, now_ms: int
) -> None:
    def with_number(template: Any) -> bytes:  # the literal goes in verbatim, not via Python floats
        return json.dumps(template).replace('"N"', number).encode()

    tower = {"radioType": "lte", "mobileCountryCode": "N", "mobileNetworkCode": "N",
             "locationAreaCode": "N", "cellId": "N", "signalStrength": "N", "age": "N"}  # fmt: skip
    wifi = {"macAddress": "00:1a:2b:00:00:09", "signalStrength": "N", "frequency": "N"}
    locate = {"cellTowers": [tower], "wifiAccessPoints": [wifi, wifi], "homeMobileCountryCode": "N"}
    assert client.post("/v1/geolocate?key=test", content=with_number(locate)).status_code in {200, 404}
    position = {"latitude": "N", "longitude": "N", "accuracy": "N", "speed": "N"}
    submit = {"items": [{"timestamp": "N", "position": position, "cellTowers": [tower]}]}
    assert client.post("/v2/geosubmit", content=with_number(submit)).status_code == 200
    assert reports_in(queue) == []  # nothing out of range reached the queue


def test_integer_beyond_the_parser_digit_limit_is_a_parse_error(client: TestClient) -> None:
    """Python refuses to convert integers of more than 4 300 digits (a CPU-exhaustion guard)."""
    body = b'{"homeMobileCountryCode": ' + b"9" * 5_000 + b"}"
    assert_envelope(client.post("/v1/geolocate?key=test", content=body), 400, "global", "parseError")


def test_an_in_range_report_with_huge_extra_numbers_still_arrives(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    item = v2_item(now_ms, heading=10**30, extra=10**40)
    item["position"]["altitude"] = 1e308
    assert client.post("/v2/geosubmit", json={"items": [item]}).status_code == 200
    (report,) = reports_in(queue)
    assert "altitude" not in report  # out of range: dropped from the report, the report kept


# --- nesting and size ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deeply_nested_bodies(client: TestClient, depth: int) -> None:
    """Beyond Python's recursion limit: parseError. Within a field, nothing reads that deep."""
    nested = b"[" * depth + b"]" * depth
    body = b'{"wifiAccessPoints": ' + nested + b"}"
    with peak_memory() as peak:
        locate = client.post("/v1/geolocate?key=test", content=body[: 60 * 1024] if depth > 30_000 else body)
        submit = client.post("/v2/geosubmit", content=b'{"items": ' + nested + b"}")
    assert locate.status_code in {400, 404}
    assert submit.status_code in {200, 400}
    if submit.status_code == 400:
        assert_envelope(submit, 400, "global", "parseError")
    assert peak[0] < 64 * MIB


def test_moderately_nested_fields_are_ignored(client: TestClient) -> None:
    """Hundreds of levels parse fine; unknown or wrongly shaped fields are dropped."""
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": [deep]}
    body = {**wifi_body(9, 10), "fallbacks": deep, "unknown": deep}
    body["wifiAccessPoints"].append(deep)
    assert client.post("/v1/geolocate?key=test", json=body).status_code == 200


def test_ten_thousand_wifi_entries_on_locate_exceed_the_body_limit(client: TestClient) -> None:
    entries = [
        {"macAddress": f"02:00:00:{i >> 16:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"} for i in range(10_000)
    ]
    body = json.dumps({"wifiAccessPoints": entries}).encode()
    assert_envelope(client.post("/v1/geolocate?key=test", content=body), 413, "global", "payloadTooLarge")
    compressed = gzip.compress(body)  # small when compressed: the limit applies to the inflated body too
    assert len(compressed) < 64 * 1024
    response = client.post("/v1/geolocate?key=test", content=compressed, headers={"content-encoding": "gzip"})
    assert_envelope(response, 413, "global", "payloadTooLarge")


def test_ten_thousand_wifi_entries_in_one_report_are_capped(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    wifi = [
        {"macAddress": f"00:1a:2c:{i >> 16:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"} for i in range(10_000)
    ]
    with peak_memory() as peak:
        response = client.post("/v2/geosubmit", json={"items": [v2_item(now_ms, wifiAccessPoints=wifi)]})
    assert response.status_code == 200
    (report,) = reports_in(queue)
    assert 2 <= len(report["wifi"]) <= 500
    assert peak[0] < 128 * MIB


def test_many_locate_entries_are_capped_to_one_lookup_round(
    client: TestClient, make_services: Callable[..., Services], make_client: Client
) -> None:
    """A 64 KiB body can name over 1 000 networks; the query keeps a bounded number, so one
    locate stays one BatchGetItem round (≤ 100 keys) whatever the body holds."""
    from openloc.api.locate_query import MAX_BLUES, MAX_LOCATE_STATIONS, MAX_WIFIS

    wifi = [{"macAddress": f"00:1a:2d:00:{i >> 8:02x}:{i & 255:02x}", "signalStrength": -50 - i % 40}
            for i in range(900)]  # fmt: skip
    blue = [{"macAddress": f"00:1a:2e:00:00:{i:02x}"} for i in range(100)]
    keys: list[int] = []

    class CountingStations:
        def get_stations(self, requested: list[str]) -> dict[str, Any]:
            keys.append(len(requested))
            return {}

        def get_areas(self, requested: list[str]) -> dict[str, Any]:
            return {}

    counting = make_client(make_services(stations=CountingStations()))
    body = json.dumps({"wifiAccessPoints": wifi, "bluetoothBeacons": blue}, separators=(",", ":")).encode()
    assert len(body) < 64 * 1024
    assert counting.post("/v1/geolocate?key=test", content=body).status_code == 404
    assert keys == [MAX_WIFIS + MAX_BLUES]
    assert MAX_LOCATE_STATIONS <= 100


# --- gzip ---------------------------------------------------------------------------------------


def _bomb(services: Services, client: TestClient, payload: bytes) -> Any:
    with peak_memory() as peak:
        response = client.post("/v2/geosubmit", content=payload, headers={"content-encoding": "gzip"})
    assert peak[0] < services.settings.submit_decompressed_limit * 4 + 16 * MIB
    return response


def test_gzip_bomb_with_the_default_limits_is_413_in_bounded_memory(
    services: Services, client: TestClient
) -> None:
    """128 MiB of zeros is ~130 KB compressed; inflation stops past the 32 MiB limit."""
    payload = gzip.compress(b"\0" * (128 * MIB), compresslevel=9)
    assert len(payload) < services.settings.submit_body_limit
    assert_envelope(_bomb(services, client, payload), 413, "global", "payloadTooLarge")


def test_multi_member_gzip_bomb_is_413(make_services: Callable[..., Services], make_client: Client) -> None:
    """Many small members, each under the limit, add up beyond it."""
    services = make_services()
    services.settings.submit_decompressed_limit = 2 * MIB
    member = gzip.compress(b" " * (512 * 1024), compresslevel=9)
    response = _bomb(services, make_client(services), member * 64)
    assert_envelope(response, 413, "global", "payloadTooLarge")


def test_gzip_inside_gzip_is_not_inflated_twice(client: TestClient, now_ms: int) -> None:
    inner = gzip.compress(json.dumps({"items": [v2_item(now_ms)]}).encode())
    response = client.post(
        "/v2/geosubmit", content=gzip.compress(inner), headers={"content-encoding": "gzip"}
    )
    assert_envelope(response, 400, "global", "parseError")


@pytest.mark.parametrize("payload", [b"\x1f\x8b\x08\x00garbage", gzip.compress(b'{"items": []}')[:-6]])
def test_corrupt_or_truncated_gzip_is_a_parse_error(client: TestClient, payload: bytes) -> None:
    response = client.post("/v2/geosubmit", content=payload, headers={"content-encoding": "gzip"})
    assert_envelope(response, 400, "global", "parseError")


# --- content types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "image/png",
    ],
)
def test_submit_reads_json_whatever_the_content_type(
    client: TestClient, queue: MemoryObservationQueue, content_type: str, now_ms: int
) -> None:
    body = json.dumps({"items": [v2_item(now_ms)]}).encode()
    response = client.post("/v2/geosubmit", content=body, headers={"content-type": content_type})
    assert response.status_code == 200
    assert len(reports_in(queue)) == 1


def test_form_encoded_body_is_a_parse_error(client: TestClient) -> None:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    for path in ("/v2/geosubmit", "/v1/geolocate?key=test"):
        response = client.post(path, content=b"items=1&key=test", headers=headers)
        assert_envelope(response, 400, "global", "parseError")


# --- the key in the query string --------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "key=test%00",
        "key=test%0d%0aX-Injected:%201",
        "key=te*",
        "key=test'--",
        "key=apikey:test",
        "key=test%20",
        "key=%E2%80%8Btest",  # zero-width space
        "key[]=test",
        "key=test&key=test",  # given twice: ambiguous, so refused
        "key=bad&key=test",
        "KEY=test",
        "key=" + "a" * 41,
        "key=" + "a" * 60_000,
    ],
)
def test_key_injection_and_overlong_keys_are_key_invalid(client: TestClient, query: str) -> None:
    response = client.post(f"/v1/geolocate?{query}", json=wifi_body(9, 10))
    assert_envelope(response, 400, "usageLimits", "keyInvalid")


def test_duplicated_key_on_submit_is_anonymous(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    assert (
        client.post("/v2/geosubmit?key=test&key=test", json={"items": [v2_item(now_ms)]}).status_code == 200
    )
    assert [r.get("api_key") for r in reports_in(queue)] == [None]


def test_query_key_takes_exactly_one_value() -> None:
    def request(query: str) -> Request:
        return Request({"type": "http", "query_string": query.encode(), "headers": []})

    assert query_key(request("key=abc")) == "abc"
    assert query_key(request("other=1&key=abc")) == "abc"
    assert query_key(request("")) is None
    assert query_key(request("key=a&key=b")) is None
