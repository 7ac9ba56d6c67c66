"""Table, queue and bucket definitions shared by the CDK stack and the local stack.

Both create exactly these resources, so code never sees a difference between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from openloc.settings import Settings


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index (string keys, all attributes projected)."""

    name: str
    hash_key: str
    range_key: str | None = None


@dataclass(frozen=True)
class TableSpec:
    setting: str  # the Settings field holding the table name
    hash_key: str
    range_key: str | None = None
    ttl_attribute: str | None = None
    indexes: tuple[IndexSpec, ...] = ()


# Cells carry `area` (their cell-area key): the aggregator recomputes an area from all its cells.
CELLS_BY_AREA = IndexSpec("by_area", "area")
# Cells by the hour of their last change, sharded (`changed_hour` = "YYYYMMDDHH#NN"): the hourly
# diff export queries one hour's shards instead of scanning (see openloc.store.change_feed).
CELLS_BY_CHANGED_HOUR = IndexSpec("by_changed_hour", "changed_hour")

TABLES: tuple[TableSpec, ...] = (
    TableSpec("stations_table", "pk", indexes=(CELLS_BY_AREA, CELLS_BY_CHANGED_HOUR)),
    TableSpec("cell_areas_table", "pk"),
    TableSpec("api_keys_table", "key"),
    TableSpec("datamap_table", "pk", "grid"),
    TableSpec("stats_table", "metric", "day"),
    # SQS messages already aggregated (idempotency), expiring after a week.
    TableSpec("processed_table", "pk", ttl_attribute="expires"),
    # New stations each submitter source asked for per day (poisoning resistance), expiring.
    TableSpec("sources_table", "pk", ttl_attribute="expires"),
)

OBSERVATIONS_QUEUE = "openloc-observations"
OBSERVATIONS_DLQ = "openloc-observations-dlq"
# Receives before a message goes to the dead-letter queue.
MAX_RECEIVE_COUNT = 5
# Seconds a received message stays invisible: ≥ 6 × the aggregator's timeout (30 s) as AWS advises
# for SQS event sources. The local stack's tests use shorter values to exercise redelivery quickly.
VISIBILITY_TIMEOUT = 180


def table_name(settings: Settings, spec: TableSpec) -> str:
    return str(getattr(settings, spec.setting))


def bucket_names(settings: Settings) -> tuple[str, str]:
    return settings.archive_bucket, settings.assets_bucket
