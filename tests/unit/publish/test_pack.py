"""The offline pack format: what the reader refuses, and what each version carries."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openloc.locate.query import LocateQuery, MacSignal
from openloc.model.kinds import FileKind, StationKind
from openloc.publish.pack import PackReader, PackWriter
from openloc.publish.policy import PublishedStation

DIGEST = "ab" * 16


def test_pack_reader_rejects_non_packs(tmp_path: Path) -> None:
    from openloc.publish.pack import PackError

    bogus = tmp_path / "x.sqlite"
    bogus.write_bytes(b"not a database at all" * 10)
    with pytest.raises(PackError):
        PackReader(bogus)
    with pytest.raises(PackError):
        PackReader(tmp_path / "missing.sqlite")
    with sqlite3.connect(tmp_path / "other.sqlite") as db:
        db.execute("CREATE TABLE meta(key TEXT, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('format', 'something-else')")
    with pytest.raises(PackError):
        PackReader(tmp_path / "other.sqlite")


# the columns each version added (an older file lacks them)
_ADDED = {"3": ("loudest",), "4": ("breadth", "offset", "misfit")}


def _one_station_pack(path: Path, version: str | None = None) -> None:
    writer = PackWriter(path, "DE", FileKind.OFFLINE_PACK, datetime(2026, 11, 29, tzinfo=UTC))
    writer.add_station(
        PublishedStation(StationKind.WIFI, DIGEST, 52.52, 13.41, 100, 30, "DE", 80, -71, 35, 12, 4)
    )
    writer.close()
    if version is not None:  # an older file: its version, without the columns it did not have
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value=? WHERE key='format_version'", (version,))
            for added, columns in _ADDED.items():
                if int(added) > int(version):
                    for column in columns:
                        db.execute(f"ALTER TABLE wifi DROP COLUMN {column}")


@pytest.mark.parametrize(
    ("version", "expected"),
    [(None, (-71.0, 35.0, 12.0, 4.0)), ("3", (-71.0, 0.0, 0.0, 0.0)), ("2", (0.0, 0.0, 0.0, 0.0))],
)
def test_a_pack_carries_the_loudest_level_and_the_footprint_shape_and_older_packs_read_them_as_unknown(
    tmp_path: Path, version: str | None, expected: tuple[float, float, float, float]
) -> None:
    path = tmp_path / "pack.sqlite"
    _one_station_pack(path, version)
    reader = PackReader(path)
    _, found = reader.stations(LocateQuery(wifis=(MacSignal(DIGEST, -60),)))
    reader.close()
    (station,) = found.values()
    assert station.reach == 80.0
    assert (station.loudest, station.breadth, station.offset, station.misfit) == expected
