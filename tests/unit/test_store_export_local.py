"""Queue packing, the archive format, the public cell export and the local-stack helpers."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.ingest.demo_seed import DEMO_CELLS, WIFI_COUNT, demo_area, demo_stations, seed_demo
from openloc.jobs import cell_export_full
from openloc.jobs.registry import Schedule
from openloc.local.poller import sqs_event
from openloc.local.scheduler import next_run, scheduled_event
from openloc.model.records import StationRecord
from openloc.publish.cell_export import HEADER, export_lines, export_row
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.archive import archive_key, decode_jsonl_gz, encode_jsonl_gz
from openloc.store.queue import MemoryObservationQueue, pack_messages
from openloc.store.stations import MemoryStationStore

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

reports_strategy = st.lists(
    st.fixed_dictionaries({"id": st.integers(0, 10**6), "pad": st.text(alphabet="abc\u00e9", max_size=200)}),
    max_size=40,
)


@given(reports_strategy, st.integers(300, 3_000))
def test_pack_messages_bounded_ordered_lossless(reports: list[dict[str, Any]], limit: int) -> None:
    bodies = list(pack_messages(reports, limit))
    for body in bodies:
        assert len(body.encode()) <= limit
    unpacked = [r for body in bodies for r in json.loads(body)["reports"]]
    assert unpacked == reports


def test_pack_messages_empty_and_oversized() -> None:
    assert list(pack_messages([])) == []
    big = {"pad": "x" * 500}
    bodies = list(pack_messages([big, big], 100))
    assert len(bodies) == 2  # a report larger than the limit travels alone


def test_memory_queue() -> None:
    queue = MemoryObservationQueue()
    assert queue.send([{"a": 1}, {"b": 2}]) == 1
    assert json.loads(queue.messages[0]) == {"reports": [{"a": 1}, {"b": 2}]}


def test_archive_round_trip_and_key() -> None:
    reports: list[dict[str, Any]] = [{"a": 1, "s": "ü"}, {"b": [1, 2]}]
    assert decode_jsonl_gz(encode_jsonl_gz(reports)) == reports
    assert decode_jsonl_gz(encode_jsonl_gz([])) == []
    assert archive_key(NOW, "x") == "observations/2026/11/23/12/x.jsonl.gz"
    generated = archive_key(NOW)
    assert generated.startswith("observations/2026/11/23/12/") and generated.endswith(".jsonl.gz")
    assert generated != archive_key(NOW)


# --- cell export ----------------------------------------------------------------------------


def cell_record(**kw: Any) -> StationRecord:
    values: dict[str, Any] = {
        "key": "cell#wcdma#262#01#4711#26866945",
        "lat": 52.5,
        "lon": 13.4,
        "radius": 1234.6,
        "samples": 9,
        "psc": 100,
        "created": NOW - timedelta(days=1),
        "modified": NOW,
    }
    values.update(kw)
    return StationRecord(**values)


def test_export_row() -> None:
    assert export_row(cell_record()) == [
        "UMTS", "262", "1", "4711", "26866945", "100", "13.4000000", "52.5000000", "1234", "9", "1",
        str(int((NOW - timedelta(days=1)).timestamp())), str(int(NOW.timestamp())), "",
    ]  # fmt: skip
    row = export_row(cell_record(psc=None, modified=None))
    assert row is not None and row[5] == "" and row[12] == row[11]


@pytest.mark.parametrize(
    "record",
    [
        cell_record(key="wifi#001a2b000001"),
        cell_record(key="area#lte#262#01#4711"),
        cell_record(lat=None, lon=None),
    ],
)
def test_export_row_skips_non_cells_and_unpositioned(record: StationRecord) -> None:
    assert export_row(record) is None


def test_export_lines_csv() -> None:
    records = [cell_record(key=f"cell#lte#262#01#1#{i}") for i in range(2_000)] + [
        cell_record(key="wifi#001a2b000001")
    ]
    chunks = list(export_lines(records))
    assert len(chunks) > 1  # streamed in chunks
    text = b"".join(chunks).decode()
    assert text.startswith(",".join(HEADER) + "\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(HEADER)
    assert len(rows) == 2_001 and all(r[0] == "LTE" for r in rows[1:])
    assert b"".join(export_lines([])).decode() == ",".join(HEADER) + "\r\n"


# --- local stack helpers --------------------------------------------------------------------


def test_next_run_daily() -> None:
    daily = Schedule("t", minute=37, run=cell_export_full.run, hour=0)
    assert next_run(daily, datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == datetime(
        2026, 11, 23, 0, 37, tzinfo=UTC
    )
    assert next_run(daily, datetime(2026, 11, 23, 0, 37, tzinfo=UTC)) == datetime(
        2026, 11, 24, 0, 37, tzinfo=UTC
    )
    assert next_run(daily, datetime(2026, 12, 31, 12, 0, tzinfo=UTC)) == datetime(
        2027, 1, 1, 0, 37, tzinfo=UTC
    )


def test_next_run_hourly() -> None:
    hourly = Schedule("t", minute=5, run=cell_export_full.run)
    assert next_run(hourly, datetime(2026, 11, 23, 10, 4, 59, tzinfo=UTC)) == datetime(
        2026, 11, 23, 10, 5, tzinfo=UTC
    )
    assert next_run(hourly, datetime(2026, 11, 23, 10, 5, tzinfo=UTC)) == datetime(
        2026, 11, 23, 11, 5, tzinfo=UTC
    )
    assert next_run(hourly, datetime(2026, 11, 23, 23, 30, tzinfo=UTC)) == datetime(
        2026, 11, 24, 0, 5, tzinfo=UTC
    )


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(0, 59),
    st.none() | st.integers(0, 23),
)
def test_next_run_is_strictly_after_and_soon(after: datetime, minute: int, hour: int | None) -> None:
    after = after.replace(tzinfo=UTC)
    run = next_run(Schedule("t", minute=minute, run=cell_export_full.run, hour=hour), after)
    assert after < run <= after + (timedelta(hours=1) if hour is None else timedelta(days=1))
    assert run.minute == minute and run.second == 0 and run.microsecond == 0
    if hour is not None:
        assert run.hour == hour


def test_scheduled_event_shape() -> None:
    event = scheduled_event(Schedule("cell_export_full", 37, cell_export_full.run, 0), NOW, "eu-central-1")
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-11-23T12:00:00Z" and event["region"] == "eu-central-1"
    assert event["resources"] == ["arn:aws:events:eu-central-1:000000000000:rule/openloc-cell_export_full"]
    assert event["detail"] == {}


def test_sqs_event_shape() -> None:
    messages: list[dict[str, Any]] = [
        {"MessageId": "m1", "ReceiptHandle": "r1", "Body": '{"reports":[]}'},
        {
            "MessageId": "m2",
            "ReceiptHandle": "r2",
            "Body": "x",
            "MD5OfBody": "given",
            "Attributes": {"a": "1"},
        },
    ]
    event = sqs_event(messages, "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1")
    first, second = event["Records"]
    assert first["messageId"] == "m1" and first["receiptHandle"] == "r1" and first["body"] == '{"reports":[]}'
    assert first["md5OfBody"] == hashlib.md5(b'{"reports":[]}').hexdigest()
    assert first["eventSource"] == "aws:sqs" and first["eventSourceARN"].endswith(":q")
    assert first["awsRegion"] == "us-east-1" and first["attributes"] == {}
    assert second["md5OfBody"] == "given" and second["attributes"] == {"a": "1"}


def test_demo_stations_deterministic() -> None:
    first, second = demo_stations(NOW), demo_stations(NOW)
    assert first == second
    keys = [r.key for r in first]
    assert len(keys) == len(set(keys)) == WIFI_COUNT + 6 + len(DEMO_CELLS)
    assert all(r.positioned for r in first)
    assert demo_area(NOW).key == DEMO_CELLS[0].area_key


def test_seed_demo_fills_stores() -> None:
    stations, keys = MemoryStationStore(), MemoryApiKeyStore()
    count = seed_demo(stations, keys, NOW)
    assert count == len(list(stations.scan_stations())) == WIFI_COUNT + 6 + len(DEMO_CELLS)
    assert keys.get("test") is not None
    assert list(stations.areas) == [DEMO_CELLS[0].area_key]
