"""`openloc import` of a cell CSV (MLS, OpenCellID and header variants), and export → import →
export giving the same rows (in-process S3 with moto)."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openloc.ingest.cell_import import ImportFormatError, import_cells
from openloc.jobs import cell_export_full
from openloc.publish.cell_export import HEADER
from openloc.store.stations import MemoryStationStore

from tests.unit.support import BUCKET, NOW, cell, export_job, read_rows


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


# --- import ---------------------------------------------------------------------------------------


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
