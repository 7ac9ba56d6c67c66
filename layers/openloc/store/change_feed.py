"""The hour-bucket index behind the hourly differential cell export (no table Scan).

Every cell write stores `changed_hour = "<YYYYMMDDHH of modified, UTC>#<shard>"`, and the sparse
global secondary index `by_changed_hour` (stations table, hash key `changed_hour`) holds exactly
the cells, grouped by the hour of their last modification. The diff export of hour H queries the
`CHANGE_SHARDS` partitions `H#00` … `H#15` and reads nothing else.

- Sparse: Wi-Fi and Bluetooth rows carry no `changed_hour`, so they never reach the index (no
  index write cost for the bulk of station updates).
- Sharded: all cells changed in one hour would otherwise share one index partition key, and one
  partition takes at most ~1 000 writes/s; the shard (CRC-32 of the cell key) spreads an hour's
  writes over 16 keys, ~16 000 writes/s before throttling. Changing `CHANGE_SHARDS` only needs
  readers and writers to agree: a reader asks for every shard of the hour.
- Latest hour only: a write moves the cell to the bucket of its new `modified`, so a cell changed
  in hour H and again before H's export ran is exported with hour H+1 — no change is lost, and a
  cell appears in one diff per change hour at most.
- Confirmations that only refresh `last_seen` do not change `modified`, hence no diff entry.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

CHANGE_SHARDS = 16
CHANGE_INDEX = "by_changed_hour"
CHANGE_ATTRIBUTE = "changed_hour"


def hour_bucket(when: datetime) -> str:
    """`YYYYMMDDHH` of a (UTC) time."""
    return f"{when:%Y%m%d%H}"


def change_shard(key: str) -> int:
    return zlib.crc32(key.encode()) % CHANGE_SHARDS


def changed_hour(key: str, modified: datetime | None) -> str | None:
    """The index attribute of a station row: cells with a modified time only (sparse index)."""
    if modified is None or not key.startswith("cell#"):
        return None
    return f"{hour_bucket(modified)}#{change_shard(key):02d}"


def hour_partitions(hour_start: datetime) -> list[str]:
    """Every index partition key of one hour."""
    bucket = hour_bucket(hour_start)
    return [f"{bucket}#{shard:02d}" for shard in range(CHANGE_SHARDS)]


def previous_hour(now: datetime) -> datetime:
    """The start of the last complete hour before `now`."""
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
