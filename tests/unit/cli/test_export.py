"""`openloc export --out FILE`: the scheduled full export's rows, from the configured tables, into
a local file (gzipped or plain), with a progress line."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from openloc.cli import main
from openloc.jobs import cell_export_full
from openloc.settings import Settings
from openloc.store.stations import DynamoStationStore, MemoryStationStore

from tests.unit.support import NOW, cell, export_job, read_rows


def cells() -> list[Any]:
    """Published cells, and cells the export leaves out: too few samples, held back, unpositioned,
    blocked today; plus Wi-Fi rows, which are no cells."""
    records = [cell(i, samples=3 + i % 7) for i in range(1, 1200)]
    records += [cell(5000, samples=2), cell(5001, held=True), cell(5002, lat=None, lon=None)]
    records.append(
        cell(5003, block_count=1, block_last=NOW.date().isoformat(), block_first=NOW.date().isoformat())
    )
    from openloc.model.records import StationRecord

    records.append(StationRecord(key="wifi#00163e000001", lat=52.5, lon=13.4, samples=50, modified=NOW))
    return records


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_writes_the_scheduled_exports_rows(
    moto_tables: Settings, s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    DynamoStationStore(moto_tables).put_stations(cells())
    memory = MemoryStationStore()
    memory.put_stations(cells())
    scheduled = export_job(cell_export_full, s3, memory, NOW)
    expected = read_rows(s3, scheduled.key)

    gz, plain = tmp_path / "cells.csv.gz", tmp_path / "cells.csv"
    assert main(["export", "--out", str(gz)]) == 0
    out, err = capsys.readouterr()
    assert main(["export", "--out", str(plain), "--quiet", "--segments", "3"]) == 0
    quiet_err = capsys.readouterr().err
    got = rows(gzip.decompress(gz.read_bytes()).decode())
    assert got[0] == expected[0]  # the header
    assert sorted(got[1:]) == sorted(expected[1:]) and len(got) - 1 == scheduled.rows == 1199
    assert rows(plain.read_text()) != [] and sorted(rows(plain.read_text())[1:]) == sorted(expected[1:])
    assert plain.read_bytes().endswith(b"\r\n") and not plain.read_bytes().startswith(b"\x1f\x8b")
    assert f"wrote {gz}: 1199 cells from cli-stations (samples >= 3)" in out
    assert f"sha256 {hashlib.sha256(gz.read_bytes()).hexdigest()}" in out
    assert "cells/s" in err and err.endswith("\n") and quiet_err == ""
    assert not list(tmp_path.glob("*.part"))


def test_export_min_samples_and_bad_folder(
    moto_tables: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    DynamoStationStore(moto_tables).put_stations(cells())
    out = tmp_path / "strict.csv"
    assert main(["export", "--out", str(out), "--min-samples", "9", "--quiet"]) == 0
    samples = [int(r[9]) for r in rows(out.read_text())[1:]]
    assert samples and min(samples) == 9
    assert main(["export", "--out", str(tmp_path / "missing" / "x.csv")]) == 2
    assert "no such folder" in capsys.readouterr().err
