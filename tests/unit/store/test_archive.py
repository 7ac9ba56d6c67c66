"""The raw archive: its format, object keys and their dates (retention)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from openloc.store.archive import (
    archive_key,
    archive_time,
    decode_jsonl_gz,
    encode_jsonl_gz,
    expired,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_archive_round_trip_and_key() -> None:
    reports: list[dict[str, Any]] = [{"a": 1, "s": "ü"}, {"b": [1, 2]}]
    assert decode_jsonl_gz(encode_jsonl_gz(reports)) == reports
    assert decode_jsonl_gz(encode_jsonl_gz([])) == []
    assert archive_key(NOW, "x") == "observations/2026/11/23/12/x.jsonl.gz"
    generated = archive_key(NOW)
    assert generated.startswith("observations/2026/11/23/12/") and generated.endswith(".jsonl.gz")
    assert generated != archive_key(NOW)


def test_archive_key_dates() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert archive_time("observations/2026/11/23/05/x.jsonl.gz") == datetime(2026, 11, 23, 5, tzinfo=UTC)
    assert archive_time("other/2026/11/23/05/x.jsonl.gz") is None
    assert not expired("observations/2026/11/23/05/x.jsonl.gz", now, 365)
    assert not expired("observations/2025/11/23/12/x.jsonl.gz", now, 365)
    assert expired("observations/2025/11/23/11/x.jsonl.gz", now, 365)
    assert expired("observations/2026/13/40/99/x.jsonl.gz", now, 365)  # undatable: never replayed
