"""The offline pack format: what the reader refuses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from openloc.publish.pack import PackReader


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
