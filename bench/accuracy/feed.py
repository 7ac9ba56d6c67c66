"""Survey uploads → the real submit parsing, queue packing and aggregation pipeline, in process.

Each upload goes the deployed path minus the network: `GeosubmitRequest` validation and
`from_geosubmit_v2` (as POST /v2/geosubmit), JSON message packing (`MemoryObservationQueue`, the
same `pack_messages` the SQS queue uses), then `parse_message` + `process_reports` (as the
aggregate Lambda) on in-memory stores, with `now` = the upload's receive time. Each upload
carries its session's source tag (`openloc.api.sources`), as the submit API would attach it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from openloc.aggregate.station_update import UpdatePolicy
from openloc.api.schemas import GeosubmitRequest
from openloc.api.sources import submitter_tag
from openloc.api.submissions import ReportBuilder, SubmitLimits, from_geosubmit_v2
from openloc.ingest.pipeline import PipelineStores, parse_message, process_reports
from openloc.store.archive import MemoryArchive
from openloc.store.coverage import MemoryCoverageStore
from openloc.store.processed import MemoryProcessedMessages
from openloc.store.queue import MemoryObservationQueue
from openloc.store.stations import MemoryStationStore

from bench.world import Upload

BENCH_HASH_KEY = "bench"


@dataclass
class FeedResult:
    stations: MemoryStationStore
    reports: int
    observations: int
    messages: int
    seconds: float  # wall time of parsing + aggregation
    changes: dict[str, int]


@dataclass(frozen=True)
class Prepared:
    """The uploads as the queue would carry them: (receive time, message bodies) per upload."""

    messages: list[tuple[datetime, list[str]]]


def prepare(uploads: list[Upload]) -> Prepared:
    """Each upload through the submit parsing and queue packing (once, whatever it feeds)."""
    out = []
    for upload in uploads:
        submitter = submitter_tag(upload.client_ip, None, BENCH_HASH_KEY)
        builder = ReportBuilder(SubmitLimits(now=upload.received + timedelta(seconds=5)), None, submitter)
        outcome = from_geosubmit_v2(GeosubmitRequest.model_validate(upload.body).items, builder)
        queue = MemoryObservationQueue()
        queue.send([r.model_dump(mode="json", exclude_none=True) for r in outcome.reports])
        out.append((upload.received, list(queue.messages)))
    return Prepared(out)


def feed(uploads: list[Upload] | Prepared, policy: UpdatePolicy | None = None) -> FeedResult:
    """Aggregate the uploads; `policy` (default: the service's) decides the station updates, e.g.
    `UpdatePolicy(corroborate=False)` for Ichnaea's behaviour without corroboration."""
    started = time.perf_counter()
    prepared = uploads if isinstance(uploads, Prepared) else prepare(uploads)
    stations = MemoryStationStore()
    stores = PipelineStores(stations, MemoryArchive(), MemoryProcessedMessages(), MemoryCoverageStore())
    reports = observations = messages = 0
    changes: dict[str, int] = {}
    for received, bodies in prepared.messages:
        for body in bodies:
            messages += 1
            result = process_reports(
                parse_message(body), stores, received + timedelta(seconds=30), message_id=f"m{messages}",
                archive=False, policy=policy,
            )  # fmt: skip
            reports += result.reports
            observations += result.observations
            for change, count in result.changes.items():
                changes[str(change)] = changes.get(str(change), 0) + count
    return FeedResult(stations, reports, observations, messages, time.perf_counter() - started, changes)
