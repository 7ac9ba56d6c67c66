"""Cell export (full and hourly diff), the change index, the multipart writer and `openloc import`,
against in-memory tables and an in-process S3 (moto)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.ingest.cell_import import ImportFormatError, import_cells
from openloc.jobs import cell_export_diff, cell_export_full
from openloc.jobs.stores import JobStores
from openloc.model.exchange import CellItem
from openloc.model.records import StationRecord
from openloc.publish.cell_export import HEADER, diff_export_key, full_export_key
from openloc.publish.manifest import read_manifest
from openloc.settings import Settings
from openloc.store.cell_source import MemoryCellSource, changed_cells
from openloc.store.change_feed import CHANGE_SHARDS, changed_hour, hour_partitions, previous_hour
from openloc.store.objects import MIN_PART_SIZE, S3ObjectStore
from openloc.store.parallel import flatten, merged_batches
from openloc.store.stations import MemoryStationStore

NOW = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)
BUCKET = "assets"


def cell(cid: int, **kw: Any) -> StationRecord:
    values: dict[str, Any] = {
        "key": f"cell#lte#262#01#4711#{cid}", "lat": 52.5 + cid * 1e-4, "lon": 13.4, "radius": 800.0,
        "samples": 10, "psc": cid % 504, "created": NOW - timedelta(days=30), "modified": NOW - timedelta(days=2),
    }  # fmt: skip
    values.update(kw)
    return StationRecord(**values)


@pytest.fixture
def s3() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def export_job(
    job: Any, s3: Any, store: MemoryStationStore, now: datetime, min_samples: int = 3, segments: int = 4
) -> SimpleNamespace:
    """Run a cell export job on `store`'s cells, writing to the in-process S3 bucket."""
    settings = Settings(cell_export_min_samples=min_samples, cell_export_segments=segments)
    stores = JobStores.in_memory(settings, stations=store)
    stores.assets = S3ObjectStore(s3, BUCKET)
    return SimpleNamespace(**job.run(stores, now).summary)


def read_rows(s3: Any, key: str) -> list[list[str]]:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return list(csv.reader(io.StringIO(gzip.decompress(body).decode())))


# --- change index ------------------------------------------------------------------------------


def test_changed_hour_is_sparse_and_sharded() -> None:
    when = datetime(2026, 11, 23, 12, 59, 59, tzinfo=UTC)
    assert changed_hour("wifi#001a2b000001", when) is None
    assert changed_hour("cell#lte#262#01#1#1", None) is None
    value = changed_hour("cell#lte#262#01#1#1", when)
    assert value is not None and value in hour_partitions(datetime(2026, 11, 23, 12, tzinfo=UTC))
    shards = {changed_hour(f"cell#lte#262#01#1#{i}", when) for i in range(2_000)}
    assert len(shards) == CHANGE_SHARDS  # an hour's writes spread over every shard
    assert previous_hour(NOW) == datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_changed_cells_reads_only_the_hour() -> None:
    store = MemoryStationStore()
    hour = datetime(2026, 11, 23, 12, tzinfo=UTC)
    inside = [cell(i, modified=hour + timedelta(minutes=i)) for i in range(1, 40)]
    outside = [cell(100, modified=hour - timedelta(seconds=1)), cell(101, modified=hour + timedelta(hours=1))]
    store.put_stations([*inside, *outside])
    found = {r.key for r in changed_cells(MemoryCellSource(store), hour)}
    assert found == {r.key for r in inside}


# --- exports -------------------------------------------------------------------------------


def test_full_export_excludes_blocked_and_rare_cells_and_updates_manifest(s3: Any) -> None:
    store = MemoryStationStore()
    good = [cell(i) for i in range(1, 51)]
    blocked = cell(60, block_count=1, block_last=NOW.date().isoformat())  # blocked today
    rare = cell(61, samples=2)
    unpositioned = cell(62, lat=None, lon=None)
    wifi = StationRecord(key="wifi#001a2b000001", lat=1.0, lon=1.0, samples=50)
    store.put_stations([*good, blocked, rare, unpositioned, wifi])
    result = export_job(cell_export_full, s3, store, NOW, min_samples=3, segments=3)
    assert (
        result.key
        == full_export_key(NOW)
        == "exports/cells/full/MLS-full-cell-export-2026-11-23T000000.csv.gz"
    )
    rows = read_rows(s3, result.key)
    assert tuple(rows[0]) == HEADER
    assert sorted(int(r[4]) for r in rows[1:]) == list(range(1, 51)) and result.rows == 50
    head = s3.head_object(Bucket=BUCKET, Key=result.key)
    assert head["ContentType"] == "application/gzip"
    manifest, _ = read_manifest(S3ObjectStore(s3, BUCKET))
    assert manifest is not None
    [entry] = manifest.files
    body = s3.get_object(Bucket=BUCKET, Key=result.key)["Body"].read()
    assert (entry.kind, entry.rows, entry.size) == ("cell-full", 50, len(body))
    assert entry.sha256 == hashlib.sha256(body).hexdigest()


def test_superseded_full_exports_are_deleted(s3: Any) -> None:
    store = MemoryStationStore()
    store.put_stations([cell(1)])
    for day in range(5):
        export_job(cell_export_full, s3, store, NOW + timedelta(days=day))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="exports/cells/full/")["Contents"]]
    assert keys == [full_export_key(NOW + timedelta(days=d)) for d in (2, 3, 4)]
    manifest, _ = read_manifest(S3ObjectStore(s3, BUCKET))
    assert manifest is not None and sorted(f.path for f in manifest.files) == keys


def test_diff_export_lists_the_previous_hour(s3: Any) -> None:
    store = MemoryStationStore()
    hour = datetime(2026, 11, 23, 12, tzinfo=UTC)
    store.put_stations([cell(1, modified=hour + timedelta(minutes=5)), cell(2), cell(3, modified=NOW)])
    result = export_job(cell_export_diff, s3, store, NOW)
    assert (
        result.key
        == diff_export_key(NOW)
        == "exports/cells/diff/MLS-diff-cell-export-2026-11-23T130000.csv.gz"
    )
    assert [r[4] for r in read_rows(s3, result.key)[1:]] == ["1"]
    empty = export_job(cell_export_diff, s3, store, NOW + timedelta(hours=5))
    assert read_rows(s3, empty.key) == [list(HEADER)] and empty.rows == 0
    manifest, _ = read_manifest(S3ObjectStore(s3, BUCKET))
    assert manifest is not None and {f.kind for f in manifest.files} == {"cell-diff"}


def test_round_trip_export_import_export(s3: Any) -> None:
    """export → import into fresh tables → export again gives the same rows."""
    store = MemoryStationStore()
    store.put_stations(
        [
            cell(i, key=f"cell#{radio}#{mcc}#{mnc}#{lac}#{i}", psc=None if i % 3 else i % 500)
            for i, (radio, mcc, mnc, lac) in enumerate(
                [
                    ("gsm", 262, "01", 1),
                    ("wcdma", 310, "410", 65533),
                    ("lte", 234, "15", 7),
                    ("nr", 208, "001", 16_000_000),
                ]
                * 5,
                start=1,
            )
        ]
    )
    first = export_job(cell_export_full, s3, store, NOW)
    fresh = MemoryStationStore()
    body = s3.get_object(Bucket=BUCKET, Key=first.key)["Body"].read()
    result = import_cells(io.BytesIO(body), fresh, NOW, out=None)
    assert (result.rows, result.imported, result.invalid_total) == (20, 20, 0)
    assert result.areas_updated == 4 and len(fresh.areas) == 4
    again = export_job(cell_export_full, s3, fresh, NOW + timedelta(days=1))
    assert sorted(read_rows(s3, first.key)) == sorted(read_rows(s3, again.key))


# --- import --------------------------------------------------------------------------------

MLS_ROW = "UMTS,262,1,4711,26866945,100,13.4000000,52.5000000,1234,9,1,1763812800,1763899200,"


MLS_UPDATED = datetime(2025, 11, 23, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "modified"),
    [
        (",".join(HEADER) + "\r\n" + MLS_ROW + "\r\n", MLS_UPDATED),
        (MLS_ROW + "\n", MLS_UPDATED),  # OpenCellID per-country files: no header
        # Header variants, other column order, extra columns; no times: the import's time.
        (
            "mcc,mnc,lac,cellid,long,lat,range,samples,radio,PSC,extra\n262,01,4711,26866945,13.4,52.5,1234,9,umts,100,x\n",
            NOW,
        ),
        (
            "radio,mcc,mnc,tac,cid,pci,lng,latitude,range,samples\nwcdma,262,1,4711,26866945,100,13.4,52.5,1234,9\n",
            NOW,
        ),
    ],
)
def test_import_header_variants(text: str, modified: datetime) -> None:
    store = MemoryStationStore()
    for data in (text.encode(), gzip.compress(text.encode())):
        result = import_cells(io.BytesIO(data), store, NOW, out=None)
        assert (result.rows, result.imported, result.invalid_total) == (1, 1, 0)
    record = store.stations["cell#wcdma#262#01#4711#26866945"]
    assert (record.lat, record.lon, record.radius, record.samples, record.psc) == (52.5, 13.4, 1234.0, 9, 100)
    assert record.region == "DE" and record.modified == modified
    assert store.areas["area#wcdma#262#01#4711"].num_cells == 1


def test_import_counts_invalid_rows_and_reports_progress() -> None:
    text = "\n".join(
        [
            ",".join(HEADER),
            MLS_ROW,
            "CDMA,310,1,2,3,,1.0,2.0,10,1,1,1,1,",  # unsupported radio
            "LTE,262,1,4711,5,,13.4,95.0,10,1,1,1,1,",  # latitude out of range
            "LTE,262,1,0,5,,13.4,52.0,10,1,1,1,1,",  # no LAC
            "LTE,262,1,4711,6",  # truncated
            "",
            "GSM,262,1,4711,7,,13.4,52.5,10,1,1,1,1,",
        ]
    )
    out = io.StringIO()
    result = import_cells(io.BytesIO(text.encode()), MemoryStationStore(), NOW, out=out)
    assert (result.rows, result.imported, result.invalid_total) == (6, 2, 4)
    assert result.invalid["radio: literal_error"] == 1 and result.invalid["lat: less_than_equal"] == 1
    assert "6 rows, 2 imported, 4 invalid" in out.getvalue()


def test_import_rejects_a_file_that_is_no_cell_csv() -> None:
    with pytest.raises(ImportFormatError, match="no column for"):
        import_cells(io.BytesIO(b"name,value\na,1\n"), MemoryStationStore(), NOW, out=None)


def test_import_replaces_rows_and_recomputes_existing_areas() -> None:
    store = MemoryStationStore()
    store.put_stations([cell(1, key="cell#wcdma#262#01#4711#1", lat=52.0, lon=13.0)])
    import_cells(io.BytesIO(MLS_ROW.encode()), store, NOW, out=None)
    area = store.areas["area#wcdma#262#01#4711"]
    assert area.num_cells == 2 and 52.0 < (area.lat or 0) < 52.5


@given(
    st.builds(
        CellItem,
        radio=st.sampled_from(["GSM", "UMTS", "LTE", "NR"]),
        mcc=st.integers(1, 999),
        net=st.from_regex(r"[0-9]{1,3}", fullmatch=True),
        area=st.integers(1, 65533),
        cell=st.integers(1, 65535),
        unit=st.none() | st.integers(0, 503),
        lon=st.floats(-180, 180),
        lat=st.floats(-90, 90),
        range=st.integers(0, 100_000),
        samples=st.integers(0, 10**6),
        created=st.integers(0, 2**31),
        updated=st.integers(0, 2**31),
    )
)
def test_item_to_record_to_row_round_trip(item: CellItem) -> None:
    from openloc.publish.cell_export import export_row

    row = export_row(item.to_record())
    assert row is not None
    again = CellItem.model_validate(dict(zip(HEADER, row, strict=True)))
    assert export_row(again.to_record()) == row


# --- plumbing ------------------------------------------------------------------------------


def test_multipart_writer_streams_parts_with_bounded_buffer(s3: Any) -> None:
    data = os.urandom(MIN_PART_SIZE * 2 + 123)
    with S3ObjectStore(s3, BUCKET).writer(
        "big.bin", "application/octet-stream", None, MIN_PART_SIZE
    ) as writer:
        for start in range(0, len(data), 1 << 20):
            writer.write(data[start : start + (1 << 20)])
    assert writer.result is not None and writer.result.parts == 3
    assert writer.peak_buffer <= MIN_PART_SIZE + (1 << 20)
    assert s3.get_object(Bucket=BUCKET, Key="big.bin")["Body"].read() == data
    assert writer.result.sha256 == hashlib.sha256(data).hexdigest()


def test_multipart_writer_aborts_on_error(s3: Any) -> None:
    with (
        pytest.raises(RuntimeError),
        S3ObjectStore(s3, BUCKET).writer(
            "broken.bin", "application/octet-stream", None, MIN_PART_SIZE
        ) as writer,
    ):
        writer.write(b"x" * (MIN_PART_SIZE + 1))
        raise RuntimeError("scan failed")
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_merged_batches_all_items_and_errors() -> None:
    producers = [lambda n=n: range(n * 1000, n * 1000 + 777) for n in range(4)]
    items = list(flatten(merged_batches(producers, max_pending=2, batch_size=100)))
    assert sorted(items) == sorted(i for n in range(4) for i in range(n * 1000, n * 1000 + 777))

    def failing() -> Iterator[int]:
        yield 1
        raise OSError("segment failed")

    with pytest.raises(OSError, match="segment failed"):
        list(flatten(merged_batches([failing, lambda: range(10)])))
    assert json.dumps(HEADER)  # the header is plain ASCII strings
