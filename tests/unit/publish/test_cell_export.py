"""The public cell export (MLS CSV): rows, streamed lines, exchange item → record → row, and the
export into a local file."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.model.exchange import CellItem
from openloc.model.records import StationRecord
from openloc.publish.cell_export import HEADER, export_lines, export_row, write_export_file

from tests.unit.support import cell

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


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


def test_interrupted_export_leaves_no_whole_looking_file(tmp_path: Path) -> None:
    def failing() -> Any:
        yield cell(1)
        raise ConnectionError("table went away")

    out = tmp_path / "cells.csv.gz"
    with pytest.raises(ConnectionError):
        write_export_file(out, failing(), NOW)
    assert not out.exists() and list(tmp_path.iterdir()) == []
    seen: list[tuple[int, int]] = []
    result = write_export_file(out, [cell(i, modified=NOW - timedelta(hours=i)) for i in range(1, 25_001)], NOW,
                               progress=lambda read, published: seen.append((read, published)))  # fmt: skip
    assert result.rows == 25_000 and seen == [(10_000, 10_000), (20_000, 20_000), (25_000, 25_000)]
