"""`/v2/geosubmit`, `/v1/geosubmit` and `/v1/submit` in-process: what reaches the queue, and the
exact bodies real stumblers send."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from openloc.api.keys import key_digest
from openloc.api.services import Services
from openloc.model.records import ApiKeyRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.counters import MemoryCounters
from openloc.store.queue import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ENTRIES,
    MAX_MESSAGE_BYTES,
    MemoryObservationQueue,
    QueueUnavailable,
    SqsObservationQueue,
)
from starlette.testclient import TestClient

from bench.world.batch import encode, stumbler_batch
from tests.unit.api.support import Client, assert_envelope, lte_tower, reports_in, v2_item
from tests.unit.api.support import reports_in as _reports


def test_geosubmit_v2_keeps_good_reports_only(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    body = {
        "items": [
            v2_item(now_ms, connection={"ip": "203.0.113.9"}),
            v2_item(now_ms, position=None),  # no position
            v2_item(now_ms, wifiAccessPoints=[{"macAddress": "00:1a:2b:aa:00:01"}]),  # one wifi
            "not an item",
            v2_item(now_ms, timestamp=now_ms - 100 * 24 * 3600 * 1000),  # 100 days old
            v2_item(now_ms, cellTowers=[lte_tower(5)], wifiAccessPoints=[]),
        ]
    }
    response = client.post("/v2/geosubmit", json=body)
    assert response.status_code == 200 and response.json() == {}
    reports = reports_in(queue)
    assert len(reports) == 2
    assert "203.0.113.9" not in json.dumps(reports)
    assert "testclient" not in json.dumps(reports)


def test_geosubmit_with_known_key_attributes_reports(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    assert client.post("/v2/geosubmit?key=test", json={"items": [v2_item(now_ms)]}).status_code == 200
    assert client.post("/v2/geosubmit?key=unknown", json={"items": [v2_item(now_ms)]}).status_code == 200
    digest = key_digest("test", Settings().ip_hash_key)
    assert [r.get("api_key") for r in reports_in(queue)] == [digest, None]
    assert digest != "test" and "test" not in json.dumps(reports_in(queue))


def test_geosubmit_object_without_items_is_accepted(
    client: TestClient, queue: MemoryObservationQueue
) -> None:
    for body in ({}, {"items": "nope"}, {"items": [1, 2, 3]}):
        response = client.post("/v2/geosubmit", json=body)
        assert response.status_code == 200 and response.json() == {}
    assert queue.messages == []


def test_geosubmit_v1_flat_items(client: TestClient, queue: MemoryObservationQueue, now_ms: int) -> None:
    item = {
        "latitude": 52.52,
        "longitude": 13.41,
        "timestamp": now_ms,
        "radioType": "gsm",
        "cellTowers": [
            {"mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 2, "cellId": 3}
        ],
    }
    bad = {"latitude": 52.52, "longitude": 13.41, "cellTowers": [{"cellId": -1, "radioType": "cdma"}]}
    response = client.post("/v1/geosubmit", json={"items": [item, bad]})
    assert response.status_code == 200 and response.json() == {}
    (report,) = reports_in(queue)
    assert report["cells"][0]["radio"] == "gsm"


def test_legacy_submit_is_204_empty(client: TestClient, queue: MemoryObservationQueue) -> None:
    body = {
        "items": [
            {
                "lat": 52.52,
                "lon": 13.41,
                "wifi": [{"key": "00:1a:2b:aa:00:01", "signal": -60}, {"key": "001a2baa0002"}],
                "cell": [{"radio": "gsm", "mcc": 262, "mnc": 1, "lac": 2, "cid": 3}],
            }
        ]
    }
    response = client.post("/v1/submit", json=body, headers={"X-Nickname": "someone"})
    assert response.status_code == 204
    assert response.content == b""
    (report,) = reports_in(queue)
    assert len(report["wifi"]) == 2 and "someone" not in json.dumps(report)


def test_submit_requires_key_when_configured(
    make_services: Callable[..., Services], make_client: Client, now_ms: int
) -> None:
    services = make_services()
    services.settings.submit_requires_key = True
    client = make_client(services)
    assert_envelope(
        client.post("/v2/geosubmit", json={"items": [v2_item(now_ms)]}), 400, "usageLimits", "keyInvalid"
    )
    assert_envelope(
        client.post("/v2/geosubmit?key=unknown", json={"items": []}), 400, "usageLimits", "keyInvalid"
    )
    assert client.post("/v2/geosubmit?key=test", json={"items": [v2_item(now_ms)]}).status_code == 200


def test_queue_unavailable_is_503(
    make_services: Callable[..., Services], make_client: Client, now_ms: int
) -> None:
    class Down:
        def send(self, reports: Sequence[dict[str, Any]]) -> int:
            raise QueueUnavailable("sqs down")

    client = make_client(make_services(queue=Down()))
    response = client.post("/v2/geosubmit", json={"items": [v2_item(now_ms)]})
    assert_envelope(response, 503, "global", "serviceUnavailable")
    # Nothing to enqueue: no queue call, success.
    assert client.post("/v2/geosubmit", json={"items": []}).status_code == 200


def test_geosubmit_unicode_digit_mnc_is_dropped_not_500(client: TestClient, now_ms: int) -> None:
    tower = {**lte_tower(5), "mobileNetworkCodeStr": "²"}
    response = client.post("/v2/geosubmit", json={"items": [v2_item(now_ms, cellTowers=[tower])]})
    assert response.status_code == 200 and response.json() == {}


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


# --- real clients' requests -----------------------------------------------------------------------


def test_neostumbler_gzip_geosubmit(client: TestClient, queue: MemoryObservationQueue, now_ms: int) -> None:
    item = {
        "timestamp": now_ms,
        "position": {"latitude": 60.1699, "longitude": 24.9384, "accuracy": 8.0, "age": -1200, "altitude": 21.5,
                     "heading": 90.0, "speed": 1.4, "pressure": 1012.3, "source": "gps"},
        "wifiAccessPoints": [{"macAddress": "aa:bb:cc:dd:ee:01", "radioType": "802.11ac", "channel": 36,
                              "frequency": 5180, "signalStrength": -61, "ssid": "home", "age": 350}],
        "cellTowers": [
            {"radioType": "lte", "mobileCountryCode": 244, "mobileCountryCodeStr": "244", "mobileNetworkCode": 5,
             "mobileNetworkCodeStr": "05", "locationAreaCode": 4100, "cellId": 12345678, "primaryScramblingCode": 301,
             "asu": 40, "serving": 1, "signalStrength": -75, "timingAdvance": 3, "arfcn": 6300, "age": 900},
            {"radioType": "nr", "mobileCountryCode": 244, "mobileNetworkCodeStr": "05", "locationAreaCode": 70000,
             "cellId": 68_000_000_000, "primaryScramblingCode": 500, "signalStrength": -90},
        ],
        "bluetoothBeacons": [{"macAddress": "11:22:33:44:55:66", "beaconType": 533, "id1": "f7826da6", "id2": "1",
                              "id3": "2", "signalStrength": -80, "age": 100}],
    }  # fmt: skip
    response = client.post(
        "/v2/geosubmit",
        content=gzip.compress(json.dumps({"items": [item]}).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {}
    [report] = _reports(queue)
    assert {(c["radio"], c["mnc"], c["cid"]) for c in report["cells"]} == {
        ("lte", "05", 12345678),
        ("nr", "05", 68_000_000_000),
    }
    assert report["bluetooth"][0]["mac"] == "112233445566"
    # the aa:bb:… Wi-Fi MAC is locally administered (randomised): never collected
    assert report.get("wifi", []) == []


def test_mozstumbler_flat_v1_geosubmit_with_minus_one_values(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    items = [
        {"latitude": 51.507351, "longitude": -0.127758, "timestamp": now_ms, "accuracy": 10.0, "altitude": 42.0,
         "cellTowers": [{"radioType": "wcdma", "cellId": -1, "locationAreaCode": -1, "mobileCountryCode": 234,
                         "mobileNetworkCode": 10, "psc": 215, "asu": 14}],
         "wifiAccessPoints": [{"macAddress": "01:23:45:67:89:ab", "frequency": 2437, "signalStrength": -51}]},
        {"latitude": 51.5074, "longitude": -0.1278, "timestamp": now_ms,
         "cellTowers": [{"radioType": "", "cellId": 5, "locationAreaCode": 7, "mobileCountryCode": 234, "mobileNetworkCode": 10}],
         "wifiAccessPoints": [{"macAddress": "00:23:45:67:89:ab"}, {"macAddress": "00:23:45:67:89:ac"}]},
    ]  # fmt: skip
    response = client.post(
        "/v1/geosubmit?key=test",
        content=gzip.compress(json.dumps({"items": items}).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {}
    reports = _reports(queue)
    # item 1 has only a neighbour cell (-1) and one Wi-Fi: unusable, dropped; item 2 is kept
    assert len(reports) == 1
    assert [w["mac"] for w in reports[0]["wifi"]] == ["0023456789ab", "0023456789ac"]
    assert reports[0]["api_key"] == key_digest(
        "test", Settings().ip_hash_key
    )  # attributed, never stored in full


def test_geoclue_legacy_submit(client: TestClient, queue: MemoryObservationQueue) -> None:
    body = {
        "items": [
            {
                "lat": 48.2082,
                "lon": 16.3738,
                "accuracy": 15,
                "time": "2026-11-23T11:58:00Z",
                "wifi": [{"key": "00:1b:2c:3d:4e:5f", "signal": -60, "frequency": 2412},
                         {"key": "00:1b:2c:3d:4e:60", "signal": -70}],
                "cell": [{"radio": "umts", "cid": 123456, "mcc": 232, "mnc": 1, "lac": 1000}],
            }
        ]
    }  # fmt: skip
    response = client.post("/v1/submit", json=body, headers={"X-Nickname": "someone"})
    assert response.status_code == 204
    assert response.content == b""


def test_reports_carry_their_source_tag_never_the_address(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient], now_ms: int
) -> None:
    """The aggregator weighs evidence by source (docs/abuse.md): the tag of the submitter's /24
    (and key), never its address."""
    services = make_services(settings=Settings(trusted_proxy_hops=1, ip_hash_key="k"))
    client = make_client(services)
    for address in ("198.51.100.7", "198.51.100.99", "203.0.113.5"):
        response = client.post(
            "/v2/geosubmit", json={"items": [v2_item(now_ms)]}, headers={"X-Forwarded-For": address}
        )
        assert response.status_code == 200
    queue = services.queue
    assert isinstance(queue, MemoryObservationQueue)
    tags = [r["submitter"] for r in _reports(queue)]
    assert tags[0] == tags[1] != tags[2]
    assert not any("198.51" in body or "203.0" in body for body in queue.messages)


# --- real-size batches ----------------------------------------------------------------------------


@pytest.fixture
def sqs_queue() -> Any:
    """An in-process SQS (moto, which enforces SendMessageBatch's limits) and its queue URL."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        yield sqs, sqs.create_queue(QueueName="observations")["QueueUrl"]


def _drain(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [m["Body"] for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    return bodies


def test_a_full_stumbler_upload_is_queued_within_the_sqs_limits(
    make_services: Callable[..., Services], make_client: Client, sqs_queue: Any, now_ms: int
) -> None:
    """The reported failure: 2 000 reports of 15 Wi-Fi + 1 LTE, gzip, used to be refused with 503
    (BatchRequestTooLong: 1 568 134 bytes in one SendMessageBatch) on every retry."""
    sqs, url = sqs_queue
    sent: list[list[int]] = []
    real_send = sqs.send_message_batch

    def recording(**kwargs: Any) -> Any:
        sent.append([len(e["MessageBody"].encode()) for e in kwargs["Entries"]])
        return real_send(**kwargs)

    sqs.send_message_batch = recording
    client = make_client(make_services(queue=SqsObservationQueue(url, sqs)))
    body = encode(stumbler_batch(now_ms))
    response = client.post("/v2/geosubmit", content=body, headers={"content-encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert len(sent) >= 2  # more than one request: the batch limit applied
    for sizes in sent:
        assert len(sizes) <= MAX_BATCH_ENTRIES and sum(sizes) <= MAX_BATCH_BYTES
        assert max(sizes) <= MAX_MESSAGE_BYTES
    reports = [r for b in _drain(sqs, url) for r in json.loads(b)["reports"]]
    assert len(reports) == 2_000


def test_a_report_larger_than_a_queue_message_is_dropped_and_counted(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int, log_lines: Any
) -> None:
    """It could never be queued: dropping it keeps the rest of the batch (never a 503 loop)."""
    huge = v2_item(now_ms)
    huge["wifiAccessPoints"] = [  # 500 networks with long non-ASCII names: ~300 KiB once escaped
        {"macAddress": f"00:1a:2b:02:{i >> 8:02x}:{i & 255:02x}", "ssid": "\U0001f4e1" * 48}
        for i in range(500)
    ]
    response = client.post("/v2/geosubmit", json={"items": [v2_item(now_ms), huge, v2_item(now_ms)]})
    assert response.status_code == 200
    assert len(reports_in(queue)) == 2
    logged = [json.loads(line) for line in log_lines.getvalue().splitlines() if "submission accepted" in line]
    assert logged[-1]["dropped"] == {"report_size": 1} and logged[-1]["reports"] == 2


@pytest.mark.parametrize("path", ["/v2/geosubmit", "/v1/geosubmit", "/v1/submit"])
def test_over_the_item_or_entry_caps_is_413(
    client: TestClient, queue: MemoryObservationQueue, path: str
) -> None:
    settings = Settings()
    too_many: dict[str, Any] = {"items": [{}] * (settings.submit_max_items + 1)}
    response = client.post(path, content=gzip.compress(json.dumps(too_many).encode()))
    assert_envelope(response, 413, "global", "payloadTooLarge")
    lists = "wifi" if path == "/v1/submit" else "wifiAccessPoints"
    per_item = 1_000
    items: list[Any] = [{lists: [{}] * per_item}] * (settings.submit_max_entries // per_item + 1)
    response = client.post(path, content=gzip.compress(json.dumps({"items": items}).encode()))
    assert_envelope(response, 413, "global", "payloadTooLarge")
    assert queue.messages == []
    ok: dict[str, Any] = {"items": [{lists: [{}] * per_item}] * (settings.submit_max_entries // per_item)}
    assert client.post(path, content=gzip.compress(json.dumps(ok).encode())).status_code in {200, 204}


# --- limits: per address across paths, per key and day ----------------------------------------------


def _limited_client(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient], **settings: Any
) -> tuple[Services, TestClient]:
    services = make_services(settings=Settings(trusted_proxy_hops=1, **settings), counters=MemoryCounters())
    return services, make_client(services)


def _submit(client: TestClient, path: str, now_ms: int, address: str, query: str = "", items: int = 1) -> Any:
    """One submission of `items` reports of 2 Wi-Fi networks each, on any submission path."""
    reports = [v2_item(now_ms) for _ in range(items)]
    wifis = [[{"key": w["macAddress"]} for w in r["wifiAccessPoints"]] for r in reports]
    if path == "/v1/submit":
        body: dict[str, Any] = {"items": [{"lat": 52.52, "lon": 13.41, "wifi": wifi} for wifi in wifis]}
    elif path == "/v1/geosubmit":
        flat = {"latitude": 52.52, "longitude": 13.41, "timestamp": now_ms}
        body = {"items": [{**flat, "wifiAccessPoints": r["wifiAccessPoints"]} for r in reports]}
    else:
        body = {"items": reports}
    return client.post(f"{path}{query}", json=body, headers={"X-Forwarded-For": address})


SUBMIT_PATHS = ("/v2/geosubmit", "/v1/geosubmit", "/v1/submit")


def test_anonymous_submissions_share_one_budget_per_address_across_paths(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient], now_ms: int
) -> None:
    """The attack: the per-IP limit counted per path, so the three paths gave three budgets."""
    _, client = _limited_client(make_services, make_client, submit_ip_limit_per_minute=3)
    codes = [_submit(client, path, now_ms, "198.51.100.20").status_code for path in SUBMIT_PATHS * 3]
    assert [code < 300 for code in codes] == [True] * 3 + [False] * 6
    refused = _submit(client, "/v1/submit", now_ms, "198.51.100.20")
    assert_envelope(refused, 503, "global", "serviceUnavailable")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert _submit(client, "/v1/submit", now_ms, "198.51.100.21").status_code == 204  # another address


def test_a_submit_key_is_held_to_its_daily_observation_budget(
    make_services: Callable[..., Services],
    make_client: Callable[[Services], TestClient],
    key_store: MemoryApiKeyStore,
    now_ms: int,
) -> None:
    """The attack: any key allowed to submit (new keys are) skipped every limit. Now each key has a
    daily budget of observations, stored with it; over it, a retryable 503 until the day ends."""
    key_store.put(ApiKeyRecord(key="stumbler", maxsubmit=10))
    key_store.put(ApiKeyRecord(key="trusted", maxsubmit=0))
    services, client = _limited_client(make_services, make_client, submit_ip_limit_per_minute=1)
    queue = services.queue
    assert isinstance(queue, MemoryObservationQueue)
    # 2 reports × 2 Wi-Fi = 4 observations a request, from rotating addresses and paths
    codes = [
        _submit(client, path, now_ms, f"203.0.113.{i}", "?key=stumbler", items=2).status_code
        for i, path in enumerate(SUBMIT_PATHS * 2)
    ]
    assert [code < 300 for code in codes] == [True, True, True, False, False, False]
    queued = [r for r in reports_in(queue) if r.get("api_key")]
    assert len(queued) == 6  # 12 observations: the third request took the budget past its end
    refused = _submit(client, "/v2/geosubmit", now_ms, "203.0.113.99", "?key=stumbler")
    assert_envelope(refused, 503, "global", "serviceUnavailable")
    assert "budget" in refused.json()["error"]["message"]
    now = datetime.now(UTC)
    assert abs(int(refused.headers["retry-after"]) - (86_400 - int(now.timestamp()) % 86_400)) <= 2
    # a key with maxsubmit 0 is unlimited, and anonymous submitters keep their own budget
    for _ in range(5):
        assert (
            _submit(client, "/v2/geosubmit", now_ms, "203.0.113.50", "?key=trusted", items=50).status_code
            == 200
        )
    assert _submit(client, "/v2/geosubmit", now_ms, "203.0.113.51").status_code == 200


def test_the_budget_counts_only_what_was_queued(
    make_services: Callable[..., Services],
    make_client: Callable[[Services], TestClient],
    key_store: MemoryApiKeyStore,
    now_ms: int,
) -> None:
    key_store.put(ApiKeyRecord(key="stumbler", maxsubmit=5))
    services, client = _limited_client(make_services, make_client)
    bad = {"items": [{"timestamp": now_ms, "position": {"latitude": 999, "longitude": 0}}] * 20}
    for _ in range(3):  # nothing valid: nothing charged
        assert client.post("/v2/geosubmit?key=stumbler", json=bad).status_code == 200
    counters = services.counters
    assert isinstance(counters, MemoryCounters) and not any(n.startswith("sub:{k:") for n in counters.values)
    assert (
        _submit(client, "/v2/geosubmit", now_ms, "203.0.113.1", "?key=stumbler", items=2).status_code == 200
    )
    charged = [value for name, (value, _) in counters.values.items() if name.startswith("sub:{k:")]
    assert charged == [4]


def test_unknown_key_flood_on_a_key_only_submit_is_a_retryable_503(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient], now_ms: int
) -> None:
    _, client = _limited_client(
        make_services, make_client, submit_requires_key=True, limit_invalid_keys_per_minute=2
    )
    codes = [
        _submit(client, "/v2/geosubmit", now_ms, "198.51.100.30", f"?key=guess-{i}").status_code
        for i in range(4)
    ]
    assert codes == [400, 400, 503, 503]


# --- Ichnaea's requests (the divergences found by replaying its API tests) -------------------------


def test_v2_item_level_radio_type_applies_to_its_cells(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    """Ichnaea's `test_radio_missing_in_observation` on /v2/geosubmit: the item names the radio,
    its cell does not. The cell is learned (it was dropped silently before)."""
    tower = {"mobileCountryCode": 262, "mobileNetworkCode": 1, "locationAreaCode": 2, "cellId": 3}
    item = v2_item(now_ms, radioType="gsm", cellTowers=[tower], wifiAccessPoints=[])
    assert client.post("/v2/geosubmit", json={"items": [item]}).json() == {}
    (report,) = reports_in(queue)
    assert [(c["radio"], c["lac"], c["cid"]) for c in report["cells"]] == [("gsm", 2, 3)]


@pytest.mark.parametrize(
    ("path", "item"),
    [
        (
            "/v2/geosubmit",
            {"timestamp": 146_000_000_000, "position": {"latitude": 52.52, "longitude": 13.41}},
        ),
        ("/v1/geosubmit", {"timestamp": 146_000_000_000, "latitude": 52.52, "longitude": 13.41}),
        ("/v1/submit", {"time": "1710-02-28", "lat": 52.52, "lon": 13.41}),
    ],
)
def test_a_report_from_a_broken_clock_is_kept_with_the_time_it_was_received(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int, path: str, item: dict[str, Any]
) -> None:
    """1974 (`timestamp` 146·10⁹ ms) or 1710: before 2001 the time is unknown, not old (Ichnaea)."""
    networks = {"wifi": [{"key": "001a2b000001"}, {"key": "001a2b000002"}]}
    if path != "/v1/submit":
        networks = {"wifiAccessPoints": [{"macAddress": "001a2b000001"}, {"macAddress": "001a2b000002"}]}
    response = client.post(path, json={"items": [{**item, **networks}]})
    assert response.status_code in (200, 204)
    (report,) = reports_in(queue)
    assert now_ms <= report["timestamp"] <= now_ms + 60_000  # the request's own clock, not 1974


def test_an_old_upload_still_follows_the_retention_rule(
    client: TestClient, queue: MemoryObservationQueue, now_ms: int
) -> None:
    """A plausible time 100 days back is old data, not a broken clock: dropped, the rest kept."""
    late = v2_item(now_ms, timestamp=now_ms - 100 * 24 * 3600 * 1000)
    assert client.post("/v2/geosubmit", json={"items": [late, v2_item(now_ms)]}).json() == {}
    assert [r["timestamp"] for r in reports_in(queue)] == [now_ms - 5_000]
