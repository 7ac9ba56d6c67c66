"""The transfer sender's state file: tied to one peer and source, a run's phases, acknowledgements."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openloc.store.transfer_state import Batch, TransferState, TransferStateError

UNTIL = datetime(2026, 11, 23, 11, 58, tzinfo=UTC)


def test_state_is_tied_to_its_peer_and_source_and_keeps_its_sender(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "peer.sqlite"
    state = TransferState(path)
    assert state.bind("https://b.example/v1/transfer", "eu-west-1/t", "first") == "first"
    assert state.bind("https://b.example/v1/transfer", "eu-west-1/t", "second") == "first"
    with pytest.raises(TransferStateError, match=r"from eu-west-1/t to https://b\.example"):
        state.bind("https://c.example/v1/transfer", "eu-west-1/t", "x")
    with pytest.raises(TransferStateError, match="use another --state file"):
        state.bind("https://b.example/v1/transfer", "us-east-1/other", "x")
    state.close()
    (tmp_path / "junk.sqlite").write_bytes(b"no database" * 100)
    with pytest.raises(TransferStateError, match="not a transfer state file"):
        TransferState(tmp_path / "junk.sqlite").bind("p", "s", "x")


def test_run_phases_acknowledgements_and_watermark(tmp_path: Path) -> None:
    state = TransferState(tmp_path / "s.sqlite")
    assert state.run is None and state.watermark is None
    state.begin(None, UNTIL)
    state.add_batches([Batch(n, f"b-{n}", bytes([n]), 10 * n) for n in (1, 2, 3)])
    assert state.run is not None and state.run.phase == "spooling"
    state.spooled()
    state.acknowledged(2)
    state.close()
    reopened = TransferState(tmp_path / "s.sqlite")  # as after a crash
    assert reopened.run is not None and (reopened.run.since, reopened.run.until, reopened.run.phase) == (
        None,
        UNTIL,
        "sending",
    )
    assert [(b.seq, b.batch_id, b.body) for b in reopened.pending()] == [
        (1, "b-1", b"\x01"),
        (3, "b-3", b"\x03"),
    ]
    assert reopened.counts() == (3, 60, 1, 20)
    reopened.finish()
    assert reopened.run is None and reopened.watermark == UNTIL and reopened.counts() == (0, 0, 0, 0)
    reopened.begin(UNTIL, UNTIL.replace(hour=12))
    reopened.add_batches([Batch(1, "c-1", b"x", 1)])
    reopened.begin(UNTIL, UNTIL.replace(hour=12))  # a spool redone: its earlier batches are gone
    assert list(reopened.pending()) == []
    reopened.close()
