"""The sending side of instance sync (`openloc transfer --to URL --key K`): this instance's
stations and cell areas, posted to a peer's `POST /v1/transfer` (receiver: `ingest.transfer`).

**Incremental.** A run sends the rows whose `modified` time falls in its window
[`since`, `until`): `since` is the end of the last window sent completely to that peer (the state
file's watermark; none on the first run or with `full`), `until` is the run's start minus
`SETTLE` (two minutes). A write carries its writer's clock as `modified` and lands within the
aggregator's 30-second timeout, so every row modified before `until` is in the table when the
scan starts: consecutive windows neither miss nor repeat a change. A row changed again after
`until` is sent by the next run. Rows written with old `modified` times (`openloc import` keeps
the file's times) reach a peer only with `full`.

**What is sent.** Positioned stations that are neither held back (docs/abuse.md) nor blocked
today, Wi-Fi/Bluetooth with a MAC a station may have, cells within their radio's ranges
(`model.exchange.station_item`), and positioned cell areas. A peer merges a station item like a
batch of observations weighted by its samples: a station sent again because it changed counts
again with all of its samples (the peer's weight is capped as for observations).

**Resumable, idempotent.** The run first writes every batch — id and gzipped body — into the
state file (`store.transfer_state`), then sends them in order, recording each acknowledgement.
Batch ids are `<sender>-<until, UTC>-<sequence>`: a sender restarted after a crash sends the
unacknowledged batches again with the same ids and bytes, and the peer, which remembers batch
ids for a week, merges none twice. An interrupted spool is redone for the same window. A batch
the peer refuses as too large (413, e.g. a lower `TRANSFER_MAX_ITEMS`: refused before anything is
merged) is sent in halves `<id>.1`, `<id>.2`, split the same way every time.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from openloc.aggregate.blocking import station_blocked
from openloc.model.exchange import CellAreaItem, CellItem, StationItem, area_item, station_item
from openloc.model.records import StationRecord
from openloc.store.stations import StationStore
from openloc.store.transfer_peer import TransferPeer, TransferRejected
from openloc.store.transfer_state import Batch, TransferState

SETTLE = timedelta(minutes=2)
DEFAULT_BATCH_SIZE = 500  # the receiver's default TRANSFER_MAX_ITEMS
_SPOOL_CHUNK = 64  # batches written per state transaction


@dataclass
class SendResult:
    since: datetime | None = None
    until: datetime | None = None
    resumed: bool = False  # an interrupted run was finished first
    batches: int = 0
    items: int = 0
    already_sent: int = 0  # batches acknowledged before this process started
    skipped: int = 0  # rows in the window not sent (held, blocked, not a valid item)
    requests: int = 0  # more than the batches sent when the peer took some in halves (413)
    kinds: dict[str, int] = field(default_factory=dict)


def _in_window(record: StationRecord, since: datetime | None, until: datetime) -> bool:
    modified = record.modified
    return modified is not None and modified < until and (since is None or modified >= since)


Item = CellItem | StationItem | CellAreaItem


def window_items(
    stations: Iterable[StationRecord],
    areas: Iterable[StationRecord],
    since: datetime | None,
    until: datetime,
    result: SendResult,
) -> Iterator[Item]:
    """The items of the rows modified in [since, until) that a peer may have."""
    today: date = until.date()
    for record in stations:
        if not _in_window(record, since, until):
            continue
        item = None if record.held or station_blocked(record, today) else station_item(record)
        if item is None:
            result.skipped += 1
            continue
        yield item
    for record in areas:
        if not _in_window(record, since, until):
            continue
        found = area_item(record)
        if found is None:
            result.skipped += 1
            continue
        yield found


def batch_body(batch_id: str, items: list[Item]) -> bytes:
    """The gzipped `TransferRequest` JSON of one batch (fixed gzip time: same items, same bytes)."""
    cells = [i.model_dump(mode="json", exclude_none=True) for i in items if isinstance(i, CellItem)]
    macs = [i.model_dump(mode="json", exclude_none=True) for i in items if isinstance(i, StationItem)]
    areas = [i.model_dump(mode="json", exclude_none=True) for i in items if isinstance(i, CellAreaItem)]
    payload = {"batch": batch_id, "cells": cells, "stations": macs, "areas": areas}
    text = json.dumps({k: v for k, v in payload.items() if v}, separators=(",", ":"))
    return gzip.compress(text.encode(), compresslevel=6, mtime=0)


def split_body(body: bytes) -> list[tuple[str, bytes, int]]:
    """A batch the peer found too large (413: refused before anything was merged) as two halves,
    `<id>.1` and `<id>.2`: the same split every time, so halves sent again keep their ids."""
    payload = json.loads(gzip.decompress(body))
    entries = [(name, entry) for name in ("cells", "stations", "areas") for entry in payload.get(name, [])]
    middle = len(entries) // 2
    halves = []
    for number, part in ((1, entries[:middle]), (2, entries[middle:])):
        name = f"{payload['batch']}.{number}"
        grouped: dict[str, object] = {"batch": name}
        for kind in ("cells", "stations", "areas"):
            values = [entry for entry_kind, entry in part if entry_kind == kind]
            if values:
                grouped[kind] = values
        text = json.dumps(grouped, separators=(",", ":"))
        halves.append((name, gzip.compress(text.encode(), compresslevel=6, mtime=0), len(part)))
    return halves


def deliver(peer: TransferPeer, name: str, body: bytes, items: int) -> int:
    """Send one batch; a batch the peer finds too large goes in halves (recursively). Returns the
    number of requests that carried it."""
    try:
        peer.send(name, body)
        return 1
    except TransferRejected as error:
        if error.status != 413 or items <= 1:
            raise
    return sum(deliver(peer, half, half_body, count) for half, half_body, count in split_body(body))


def batch_id(sender: str, until: datetime, seq: int) -> str:
    return f"{sender}-{until:%Y%m%dT%H%M%SZ}-{seq:06d}"


def spool(
    state: TransferState,
    stations: StationStore,
    sender: str,
    since: datetime | None,
    until: datetime,
    batch_size: int,
    result: SendResult,
) -> None:
    """Write every batch of the window into the state file, then mark the run as sending."""
    state.begin(since, until)
    pending: list[Batch] = []
    chunk: list[Item] = []
    seq = 0

    def close_batch() -> None:
        nonlocal seq, chunk
        seq += 1
        name = batch_id(sender, until, seq)
        pending.append(Batch(seq, name, batch_body(name, chunk), len(chunk)))
        chunk = []
        if len(pending) >= _SPOOL_CHUNK:
            state.add_batches(pending)
            pending.clear()

    for item in window_items(stations.scan_stations(), stations.scan_areas(), since, until, result):
        kind = (
            item.kind if isinstance(item, StationItem) else "cell" if isinstance(item, CellItem) else "area"
        )
        result.kinds[kind] = result.kinds.get(kind, 0) + 1
        chunk.append(item)
        if len(chunk) >= batch_size:
            close_batch()
    if chunk:
        close_batch()
    if pending:
        state.add_batches(pending)
    state.spooled()


def send_transfer(
    stations: StationStore,
    state: TransferState,
    peer: TransferPeer,
    sender: str,
    now: datetime,
    *,
    full: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int, int], None] | None = None,
) -> SendResult:
    """Finish the run the state file has under way (if any), else send the window since the
    watermark (everything with `full`). `progress(items sent, items, batches sent)` after each
    batch. Raises the peer's `TransferRejected`/`PeerUnavailable`; the state keeps what was
    acknowledged, so the next call resumes there."""
    result = SendResult()
    run = state.run
    if run is not None and run.phase == "sending":
        result.resumed = True
    else:
        since = run.since if run is not None else (None if full else state.watermark)
        until = run.until if run is not None else now - SETTLE
        result.resumed = run is not None
        spool(state, stations, sender, since, until, batch_size, result)
        run = state.run
        assert run is not None
    result.since, result.until = run.since, run.until
    batches, items, sent_batches, sent_items = state.counts()
    result.batches, result.items, result.already_sent = batches, items, sent_batches
    for batch in state.pending():
        result.requests += deliver(peer, batch.batch_id, batch.body, batch.items)
        state.acknowledged(batch.seq)
        sent_batches += 1
        sent_items += batch.items
        if progress is not None:
            progress(sent_items, items, sent_batches)
    state.finish()
    return result
