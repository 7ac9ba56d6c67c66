"""Request bodies: size limits, gzip, "must be a JSON object" whatever the Content-Type says, and
hostile or malformed bodies written by hand. Each gets a clear answer (a 4xx envelope, or the
lenient 2xx the contract asks for), never a 5xx, and the memory it costs stays bounded.

Memory is measured with tracemalloc around in-process requests (the app runs in this process);
the bounds are generous multiples of the configured limits, not timings."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from openloc.api.body import MAX_GZIP_MEMBERS, gunzip_limited
from openloc.api.errors import ApiError
from openloc.api.services import Services
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.processed import MemoryProcessedMessages
from openloc.store.queue import MemoryObservationQueue
from starlette.testclient import TestClient

from bench.world.batch import stumbler_batch, verbose_batch
from tests.unit.api.support import Client, assert_envelope, reports_in, v2_item, wifi_body

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


# --- gunzip_limited -------------------------------------------------------------------------------


def test_gunzip_round_trip_gzip_and_zlib() -> None:
    data = b'{"items": []}' * 100
    assert gunzip_limited(gzip.compress(data), 10_000) == data
    assert gunzip_limited(zlib.compress(data), 10_000) == data
    assert gunzip_limited(gzip.compress(data), len(data)) == data  # exactly at the limit


def test_gunzip_bomb_is_413() -> None:
    bomb = gzip.compress(b"0" * 1_000_000)
    with pytest.raises(ApiError) as info:
        gunzip_limited(bomb, 1_000)
    assert info.value.status == 413 and info.value.reason == "payloadTooLarge"


def test_gunzip_garbage_is_parse_error() -> None:
    with pytest.raises(ApiError) as info:
        gunzip_limited(b"\x1f\x8bnot really gzip", 1_000)
    assert (info.value.status, info.value.reason) == (400, "parseError")


# --- not a JSON object ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"a string"', b"42", b"{", b"\xff\xfe"])
def test_geolocate_parse_error(client: TestClient, body: bytes) -> None:
    response = client.post(
        "/v1/geolocate?key=test", content=body, headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "global", "parseError")


@pytest.mark.parametrize("path", ["/v2/geosubmit", "/v1/geosubmit", "/v1/submit"])
@pytest.mark.parametrize("body", [b"", b"   ", b"not json", b"[]", b'"items"'])
def test_submit_unparseable_body_is_400(client: TestClient, path: str, body: bytes) -> None:
    assert_envelope(client.post(path, content=body), 400, "global", "parseError")


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


# --- numbers --------------------------------------------------------------------------------------


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


# --- nesting and size -----------------------------------------------------------------------------


def test_geolocate_body_over_64_kib_is_413(client: TestClient) -> None:
    body = json.dumps({"carrier": "x" * (64 * 1024)}).encode()
    assert_envelope(client.post("/v1/geolocate?key=test", content=body), 413, "global", "payloadTooLarge")


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


# --- gzip -----------------------------------------------------------------------------------------


def test_geolocate_gzip_body(client: TestClient) -> None:
    response = client.post(
        "/v1/geolocate?key=test",
        content=gzip.compress(json.dumps(wifi_body(9, 10)).encode()),
        headers={"content-encoding": "gzip"},
    )
    assert response.status_code == 200


def test_geosubmit_gzip(client: TestClient, queue: MemoryObservationQueue, now_ms: int) -> None:
    payload = gzip.compress(json.dumps({"items": [v2_item(now_ms)] * 3}).encode())
    response = client.post("/v2/geosubmit", content=payload, headers={"content-encoding": "gzip"})
    assert response.status_code == 200 and response.json() == {}
    assert len(reports_in(queue)) == 3


def test_geosubmit_gzip_bomb_is_413(make_services: Callable[..., Services], make_client: Client) -> None:
    services = make_services()
    services.settings.submit_decompressed_limit = 1_024 * 1_024
    client = make_client(services)
    bomb = gzip.compress(b" " * (2 * 1_024 * 1_024))
    response = client.post("/v2/geosubmit", content=bomb, headers={"content-encoding": "gzip"})
    assert_envelope(response, 413, "global", "payloadTooLarge")


def _bomb(services: Services, client: TestClient, payload: bytes) -> Any:
    with peak_memory() as peak:
        response = client.post("/v2/geosubmit", content=payload, headers={"content-encoding": "gzip"})
    assert peak[0] < services.settings.submit_decompressed_limit * 4 + 16 * MIB
    return response


def test_gzip_bomb_with_the_default_limits_is_413_in_bounded_memory(
    services: Services, client: TestClient
) -> None:
    """128 MiB of zeros is ~130 KB compressed; inflation stops past SUBMIT_DECOMPRESSED_LIMIT."""
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


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_geolocate_any_content_type_is_json(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(
        "/v1/geolocate?key=test", content=json.dumps(wifi_body(9, 10)).encode(), headers=headers
    )
    assert response.status_code == 200, response.text


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


# --- bounded cost: gzip members -------------------------------------------------------------------


@pytest.fixture
def body_client(make_services: Callable[..., Services], make_client: Client) -> TestClient:
    """The app with key `test` also allowed to transfer, so every endpoint reaches its body."""
    keys = MemoryApiKeyStore(ApiKeyRecord(key="test", allow_transfer=True))
    return make_client(make_services(api_keys=keys, processed=MemoryProcessedMessages()))


def test_gzip_members_up_to_the_cap_are_concatenated() -> None:
    text = json.dumps({"items": [{"n": i} for i in range(MAX_GZIP_MEMBERS * 3)]}).encode()
    step = -(-len(text) // MAX_GZIP_MEMBERS)
    members = b"".join(gzip.compress(text[i : i + step]) for i in range(0, len(text), step))
    assert gunzip_limited(members, len(text)) == text


class _CountingDecompressors:
    """Wraps zlib.decompressobj: counts the decompressors made and the input each is handed."""

    def __init__(self) -> None:
        self.made = 0
        self.largest_input = 0
        self._real = zlib.decompressobj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.made += 1
        real = self._real(*args, **kwargs)
        outer = self

        class Counting:
            def decompress(self, data: Any, max_length: int = 0) -> bytes:
                outer.largest_input = max(outer.largest_input, len(data))
                return real.decompress(data, max_length)

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

        return Counting()


def test_many_gzip_members_are_413_at_the_cap_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported 2 MB of empty members: refused after MAX_GZIP_MEMBERS decompressors, and no
    member is handed the rest of the body (the old walk copied it once per member: quadratic)."""
    body = gzip.compress(b"", mtime=0) * 100_000
    counting = _CountingDecompressors()
    monkeypatch.setattr(zlib, "decompressobj", counting)
    with pytest.raises(ApiError) as info:
        gunzip_limited(body, 32 * MIB)
    assert (info.value.status, info.value.reason) == (413, "payloadTooLarge")
    assert counting.made == MAX_GZIP_MEMBERS
    assert counting.largest_input <= 64 * 1024 < len(body)
    counting.made = 0  # without the cap the walk is still by slices: linear in the body
    assert gunzip_limited(body, 32 * MIB, max_members=10**6) == b""
    assert counting.made == 100_000 and counting.largest_input <= 64 * 1024


@pytest.mark.parametrize("path", ["/v2/geosubmit", "/v1/geolocate?key=test", "/v1/transfer?key=test"])
def test_empty_gzip_members_are_413_over_http(body_client: TestClient, path: str) -> None:
    body = gzip.compress(b"", mtime=0) * 100_000
    with peak_memory() as peak:
        response = body_client.post(path, content=body, headers={"content-encoding": "gzip"})
    assert_envelope(response, 413, "global", "payloadTooLarge")
    assert peak[0] < 32 * MIB


# --- bounded cost: the shape of the JSON ----------------------------------------------------------


def _tiny_gzip(element: bytes, count: int = 10**6, key: bytes = b"items") -> bytes:
    return gzip.compress(b'{"' + key + b'":[' + b",".join([element] * count) + b"]}", 9)


@pytest.mark.parametrize(
    "element",
    [
        b"{}",
        b"[]",
        b"1",
        b'""',
        b"[[[[[[[[[[]]]]]]]]]]",
        b'{"a":{"b":{}}}',
        b'{"macAddress":"00:1a:2b:00:00:01"}',
    ],
)
@pytest.mark.parametrize(("path", "key"), [("/v2/geosubmit", b"items"), ("/v1/geosubmit", b"items"),
                                           ("/v1/submit", b"items"), ("/v1/geolocate?key=test", b"wifiAccessPoints"),
                                           ("/v1/transfer?key=test", b"cells")])  # fmt: skip
def test_a_million_tiny_values_in_a_few_kilobytes_are_413(
    body_client: TestClient, path: str, key: bytes, element: bytes
) -> None:
    """The reported attack: `{"items":[{},{},…]}` × 10⁶ is 2 961 bytes of gzip and used to cost
    ~1 GB and 15 s. The values are counted before anything is parsed."""
    body = _tiny_gzip(element, key=key)
    assert len(body) < 128 * 1024
    with peak_memory() as peak:
        response = body_client.post(path, content=body, headers={"content-encoding": "gzip"})
    assert_envelope(response, 413, "global", "payloadTooLarge")
    assert peak[0] < 40 * MIB  # the inflated text (≤ SUBMIT_DECOMPRESSED_LIMIT), never a parsed tree


def test_the_reported_body_exactly(client: TestClient) -> None:
    body = gzip.compress(b'{"items":[' + b",".join([b"{}"] * 10**6) + b"]}", 9)
    assert len(body) < 3_000
    response = client.post("/v2/geosubmit", content=body, headers={"content-encoding": "gzip"})
    assert_envelope(response, 413, "global", "payloadTooLarge")
    assert "JSON values" in response.json()["error"]["message"]


def test_values_are_counted_in_plain_bodies_too(services: Services, client: TestClient) -> None:
    limit = services.settings.submit_max_json_values
    body = b'{"items":[' + b",".join([b"1"] * (limit + 1)) + b"]}"
    assert len(body) < services.settings.submit_body_limit
    assert_envelope(client.post("/v2/geosubmit", content=body), 413, "global", "payloadTooLarge")


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("values at the cap", lambda n: b'{"items":[],"x":[' + b",".join([b"1"] * (n - 3)) + b"]}"),
        ("empty strings", lambda n: b'{"items":[],"x":[' + b",".join([b'""'] * (n - 3)) + b"]}"),
        ("distinct keys", lambda n: b'{"items":[{' + b",".join(b'"%x":0' % i for i in range(n - 3)) + b"}]}"),
        ("nesting", lambda n: b'{"items":[' + b"[" * 500 + b"]" * 500 + b"]}"),
    ],
)
def test_shapes_within_the_caps_are_accepted_in_bounded_memory(
    services: Services, client: TestClient, queue: MemoryObservationQueue, name: str, build: Any
) -> None:
    """At the real default caps: what fits is parsed and answered 200 (nothing usable is queued)."""
    body = gzip.compress(build(services.settings.submit_max_json_values))
    with peak_memory() as peak:
        response = client.post("/v2/geosubmit", content=body, headers={"content-encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert queue.messages == []
    assert peak[0] < 128 * MIB


def test_deep_nesting_within_the_value_cap_is_a_parse_error(client: TestClient) -> None:
    body = gzip.compress(b'{"items":' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    assert_envelope(
        client.post("/v2/geosubmit", content=body, headers={"content-encoding": "gzip"}),
        400,
        "global",
        "parseError",
    )


def test_plain_body_over_the_decompressed_limit_is_413(
    make_services: Callable[..., Services], make_client: Client, now_ms: int
) -> None:
    services = make_services()
    services.settings.submit_decompressed_limit = 2048
    body = json.dumps({"items": [v2_item(now_ms)] * 30}).encode()
    assert 2048 < len(body) < services.settings.submit_body_limit
    response = make_client(services).post("/v2/geosubmit", content=body)
    assert_envelope(response, 413, "global", "payloadTooLarge")


# --- the limits fit what can arrive and what real clients send ------------------------------------


def test_the_submit_body_limit_is_what_a_lambda_event_can_carry() -> None:
    """A gzip body travels base64-encoded in the ≤ 6 MiB invocation payload, with ~1 KiB of context."""
    limit = Settings().submit_body_limit
    assert 4 * -(-limit // 3) + 1024 <= 6 * MIB < 4 * -(-(limit + 1024) // 3) + 1024 + 4


def test_a_full_stumbler_upload_fits_the_limits_twice() -> None:
    settings = Settings()
    body = stumbler_batch(0)
    text = json.dumps(body, separators=(",", ":")).encode()
    values = text.count(b"{") + text.count(b"[") + text.count(b",")
    entries = sum(len(i["wifiAccessPoints"]) + len(i["cellTowers"]) for i in body["items"])
    assert 2 * len(gzip.compress(text)) <= settings.submit_body_limit
    assert 2 * len(text) <= settings.submit_decompressed_limit
    assert 2 * values <= settings.submit_max_json_values
    assert 2 * len(body["items"]) <= settings.submit_max_items
    assert 2 * entries <= settings.submit_max_entries


def test_the_most_verbose_full_upload_fits_the_limits() -> None:
    settings = Settings()
    body = verbose_batch(0)
    text = json.dumps(body, separators=(",", ":")).encode()
    entries = sum(len(i["wifiAccessPoints"]) + len(i["cellTowers"]) for i in body["items"])
    assert len(gzip.compress(text)) <= settings.submit_body_limit
    assert len(text) <= settings.submit_decompressed_limit
    assert text.count(b"{") + text.count(b"[") + text.count(b",") <= settings.submit_max_json_values
    assert entries <= settings.submit_max_entries
