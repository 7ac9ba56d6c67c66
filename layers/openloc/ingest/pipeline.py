"""The aggregation pipeline: one SQS message of reports → archive → stations → areas, map, stats.

1. A message already fully aggregated (idempotency marker: its SQS message id, and the digest of
   its body, `content_id`) is skipped. The body digest catches a submission that a client sent
   again after a 503 that came after part of it had been enqueued: the same reports make the same
   message bodies, so the parts that got in the first time are not aggregated twice.
2. The raw reports are archived first, so every accepted report is replayable even if a later
   step fails. The object is named after the message id and its first receive time, so a
   redelivery overwrites the same object instead of adding a copy.
3. Observations are grouped by station and written through `ingest.station_writes` (one read
   round, conditional writes, lost races re-applied, a redelivered message never merged twice).
   Stations named by an opt-out (`Report.opted_out`) are withdrawn instead (position and name
   digest cleared, docs/privacy.md). Wi-Fi/Bluetooth stations whose name digest changed get an
   alias item `hash#<kind>#<digest>` → station key (for geolocate requests by hashed identifier);
   the alias of the previous digest is deleted.
4. Cell areas of changed cells are recomputed from all their cells; the coverage grid is touched.
5. The message is marked processed; daily counters are added after that (a crash in between
   under-counts a statistic rather than double-counting it).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from openloc.aggregate.grouping import group_by_station, group_opt_outs
from openloc.aggregate.station_update import Change, UpdatePolicy
from openloc.geo.datamap import grid_cells
from openloc.ingest.admission import AdmissionPolicy, NewStations
from openloc.ingest.station_writes import (
    Aliases,
    OptOuts,
    apply_station_updates,
    update_areas,
    update_or_opt_out,
)
from openloc.model.report import Report, archive_record
from openloc.store.archive import Archive
from openloc.store.coverage import CoverageStore
from openloc.store.processed import ProcessedMessages
from openloc.store.source_budgets import MemorySourceBudgets, SourceBudgets
from openloc.store.stations import StationStore

if TYPE_CHECKING:
    from openloc.settings import Settings

_REPORTS = TypeAdapter(list[Report])


class PoisonMessage(ValueError):
    """A message body that can never be processed (not the queue's JSON shape)."""


def parse_message(body: str) -> list[Report]:
    try:
        payload: Any = json.loads(body)
        return _REPORTS.validate_python(payload["reports"])
    except (ValueError, KeyError, TypeError) as error:
        raise PoisonMessage(str(error)) from error


@dataclass
class PipelineStores:
    stations: StationStore
    archive: Archive
    processed: ProcessedMessages
    coverage: CoverageStore
    budgets: SourceBudgets = field(default_factory=MemorySourceBudgets)

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineStores:
        """The deployed stores: DynamoDB tables and the S3 archive named by `settings`."""
        from openloc.store.archive import S3Archive
        from openloc.store.coverage import DynamoCoverageStore
        from openloc.store.processed import DynamoProcessedMessages
        from openloc.store.source_budgets import DynamoSourceBudgets
        from openloc.store.stations import DynamoStationStore

        return cls(
            stations=DynamoStationStore.from_settings(settings),
            archive=S3Archive.from_settings(settings),
            processed=DynamoProcessedMessages.from_settings(settings),
            coverage=DynamoCoverageStore.from_settings(settings),
            budgets=DynamoSourceBudgets.from_settings(settings),
        )

    @classmethod
    def in_memory(cls) -> PipelineStores:
        """Empty in-process stores (tests, benchmarks, offline tools)."""
        from openloc.store.archive import MemoryArchive
        from openloc.store.coverage import MemoryCoverageStore
        from openloc.store.processed import MemoryProcessedMessages
        from openloc.store.stations import MemoryStationStore

        return cls(MemoryStationStore(), MemoryArchive(), MemoryProcessedMessages(), MemoryCoverageStore())


@dataclass(frozen=True)
class BatchResult:
    reports: int
    observations: int
    stations_written: int
    archive_key: str | None
    changes: Counter[str] = field(default_factory=Counter)
    areas_written: int = 0
    grids_written: int = 0
    duplicate: bool = False


def process_reports(
    reports: list[Report],
    stores: PipelineStores,
    now: datetime,
    message_id: str | None = None,
    received: datetime | None = None,
    policy: UpdatePolicy | None = None,
    archive: bool = True,
    admission_policy: AdmissionPolicy | None = None,
    content_id: str | None = None,
) -> BatchResult:
    """Aggregate one message's reports (see the module docstring for the steps). `content_id`
    names the message's content: a message whose content was aggregated before under another id
    (a submission re-sent after a 503 that had enqueued part of it) is skipped as well."""
    markers = [m for m in (message_id, content_id) if m is not None]
    if any(stores.processed.seen(marker) for marker in markers):
        return BatchResult(len(reports), 0, 0, None, duplicate=True)
    key = (
        stores.archive.put([archive_record(r) for r in reports], received or now, message_id)
        if archive
        else None
    )
    # Reports without a source (older archives, other tools) count as one source per message.
    fallback = f"message:{message_id}" if message_id is not None else None
    opt_outs = {k: OptOuts(tuple(v)) for k, v in group_opt_outs(reports, fallback).items()}
    policy = policy or UpdatePolicy()
    observed = group_by_station(reports, fallback, drop_glitches=policy.fit_positions)
    grouped = {k: v for k, v in observed.items() if k not in opt_outs}
    aliases = Aliases()
    admission = NewStations(stores.budgets, now.date().isoformat(), admission_policy or AdmissionPolicy())
    written, changes, areas = apply_station_updates(
        {**grouped, **opt_outs},
        stores.stations,
        now,
        message_id,
        policy,
        update=update_or_opt_out,
        on_written=aliases.follow,
        admit=admission.admit,
    )
    aliases.write(stores.stations)
    areas_written = update_areas(stores.stations, areas, now)
    grids_written = stores.coverage.touch_grids(
        grid_cells((r.latitude, r.longitude) for r in reports), now.date().isoformat()
    )
    for marker in markers:
        stores.processed.mark(marker)
    observations = sum(len(o) for o in grouped.values())
    counters = {"reports": len(reports), "observations": observations}
    for change_key, count in changes.items():
        counters[f"station_{change_key}" if isinstance(change_key, Change) else change_key] = count
    stores.coverage.add_stats(counters, now.date().isoformat())
    return BatchResult(
        reports=len(reports),
        observations=observations,
        stations_written=written,
        archive_key=key,
        changes=changes,
        areas_written=areas_written,
        grids_written=grids_written,
    )


def content_id(body: str) -> str:
    """The idempotency marker of a message's content (`process_reports`)."""
    return "body:" + hashlib.sha256(body.encode()).hexdigest()[:32]
