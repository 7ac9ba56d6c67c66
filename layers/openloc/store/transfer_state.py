"""The sending side of instance sync keeps its checkpoint and its outbox in one local SQLite file
(`openloc transfer --state FILE`), one file per peer.

- `meta`: the peer's URL, the source tables, the sender's id (the prefix of every batch id), the
  watermark (the end of the last window sent completely) and the run under way: its window
  (`since`, `until`) and its phase (`spooling` while batches are being written, `sending` once all
  are written).
- `batches`: the run's batches in order — id, gzipped JSON body, item count, and whether the peer
  has acknowledged it.

A batch's id and body are written once, before anything is sent, so a batch sent again after a
crash is byte for byte the one sent before, under the same id: the peer, which remembers batch
ids, merges it at most once. Each acknowledgement and each phase change is its own committed
transaction, so a killed sender loses at most the acknowledgement of the batch in flight (which the
peer then skips as a duplicate when it is sent again).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches(seq INTEGER PRIMARY KEY, batch_id TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL, items INTEGER NOT NULL, sent INTEGER NOT NULL DEFAULT 0);
"""


class TransferStateError(RuntimeError):
    """The state file belongs to another peer or another source, or is not a state file."""


@dataclass(frozen=True)
class Run:
    """A run under way: its window of `modified` times and its phase."""

    since: datetime | None
    until: datetime
    phase: str  # "spooling" or "sending"


@dataclass(frozen=True)
class Batch:
    seq: int
    batch_id: str
    body: bytes
    items: int


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class TransferState:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, isolation_level=None)  # explicit transactions below
            self.db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;" + _SCHEMA)
        except sqlite3.DatabaseError as error:
            raise TransferStateError(f"{path} is not a transfer state file: {error}") from error

    def close(self) -> None:
        self.db.close()

    # -- meta ------------------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row is not None else None

    def _set(self, values: dict[str, str | None]) -> None:
        for key, value in values.items():
            if value is None:
                self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def bind(self, peer: str, source: str, sender: str) -> str:
        """Tie the file to one peer and one source on first use; the sender id kept (the one given
        the first time). A file of another peer or source is refused."""
        stored = {name: self.get(name) for name in ("peer", "source", "sender")}
        for name, value in (("peer", peer), ("source", source)):
            if stored[name] is not None and stored[name] != value:
                raise TransferStateError(
                    f"{self.path} is the state of transfers from {stored['source']} to {stored['peer']}, "
                    f"not from {source} to {peer}: use another --state file"
                )
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._set({"peer": peer, "source": source, "sender": stored["sender"] or sender})
        return stored["sender"] or sender

    @property
    def watermark(self) -> datetime | None:
        """The end of the last window sent completely (None: nothing sent yet)."""
        return _time(self.get("watermark"))

    @property
    def run(self) -> Run | None:
        phase, until = self.get("phase"), _time(self.get("until"))
        if phase is None or until is None:
            return None
        return Run(_time(self.get("since")), until, phase)

    # -- a run -----------------------------------------------------------------------------------

    def begin(self, since: datetime | None, until: datetime) -> None:
        """Start spooling the window [since, until): any unsent batches of an unfinished spool go."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM batches")
            self._set(
                {
                    "since": since.isoformat() if since else None,
                    "until": until.isoformat(),
                    "phase": "spooling",
                }
            )

    def add_batches(self, batches: list[Batch]) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT INTO batches(seq, batch_id, body, items) VALUES (?, ?, ?, ?)",
                [(b.seq, b.batch_id, b.body, b.items) for b in batches],
            )

    def spooled(self) -> None:
        """Every batch of the run is written: from now on only sending remains."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._set({"phase": "sending"})

    def pending(self) -> Iterator[Batch]:
        """The run's batches the peer has not acknowledged, in order."""
        last = -1
        while True:
            rows = self.db.execute(
                "SELECT seq, batch_id, body, items FROM batches WHERE sent = 0 AND seq > ? "
                "ORDER BY seq LIMIT 64",
                (last,),
            ).fetchall()
            if not rows:
                return
            for seq, batch_id, body, items in rows:
                last = seq
                yield Batch(seq, batch_id, bytes(body), items)

    def acknowledged(self, seq: int) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("UPDATE batches SET sent = 1 WHERE seq = ?", (seq,))

    def counts(self) -> tuple[int, int, int, int]:
        """(batches, items, batches acknowledged, items acknowledged) of the run."""
        row = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(items), 0), COALESCE(SUM(sent), 0), "
            "COALESCE(SUM(items * sent), 0) FROM batches"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    def finish(self) -> None:
        """The run is sent completely: its window's end becomes the watermark."""
        run = self.run
        if run is None:
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM batches")
            self._set({"watermark": run.until.isoformat(), "since": None, "until": None, "phase": None})
