"""PynamoDB models of the DynamoDB tables (docs/design.md §4).

Table names and the endpoint come from settings at bind time (`bind_models`), so the same
classes serve the Lambda functions, the local moto server and tests with their own tables.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from openloc.settings import Settings


class CellsByAreaIndex(GlobalSecondaryIndex["StationModel"]):  # type: ignore[no-untyped-call]
    """Cells by their cell-area key (`area#…`), to recompute an area from all of its cells."""

    class Meta:
        index_name = "by_area"
        projection = AllProjection()

    area = UnicodeAttribute(hash_key=True)


class CellsByChangedHourIndex(GlobalSecondaryIndex["StationModel"]):  # type: ignore[no-untyped-call]
    """Cells by the (sharded) hour of their last change, for the hourly diff export."""

    class Meta:
        index_name = "by_changed_hour"
        projection = AllProjection()

    changed_hour = UnicodeAttribute(hash_key=True)


class StationModel(Model):
    """A Wi-Fi access point, Bluetooth beacon or cell, keyed `wifi#…`, `blue#…`, `cell#…`."""

    class Meta:
        table_name = "openloc-stations"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    lat = NumberAttribute(null=True)
    lon = NumberAttribute(null=True)
    min_lat = NumberAttribute(null=True)
    max_lat = NumberAttribute(null=True)
    min_lon = NumberAttribute(null=True)
    max_lon = NumberAttribute(null=True)
    radius = NumberAttribute(default=0)
    region = UnicodeAttribute(null=True)
    samples = NumberAttribute(default=0)
    weight = NumberAttribute(default=0.0)
    psc = NumberAttribute(null=True)
    created = UTCDateTimeAttribute(null=True)
    modified = UTCDateTimeAttribute(null=True)
    last_seen = UnicodeAttribute(null=True)  # ISO date
    block_first = UnicodeAttribute(null=True)
    block_last = UnicodeAttribute(null=True)
    block_count = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    area = UnicodeAttribute(null=True)  # cells only: their area key (indexed by `by_area`)
    # cells only: "YYYYMMDDHH#NN" of `modified` (indexed by `by_changed_hour`, see store.change_feed)
    changed_hour = UnicodeAttribute(null=True)
    # Ids of the last SQS messages merged into this station: a redelivered message is not merged twice.
    recent_messages = ListAttribute(of=UnicodeAttribute, null=True)
    name_hash = UnicodeAttribute(null=True)  # Wi-Fi/Bluetooth: v1 digest of the majority name
    name_votes = NumberAttribute(default=0)
    optout_last = UnicodeAttribute(null=True)  # ISO date of the last opt-out sighting
    alias_of = UnicodeAttribute(null=True)  # `hash#…` alias items: the station they stand for
    # Poisoning resistance (docs/abuse.md): not yet corroborated new station, its creator, and
    # the pending evidence (compact JSON, see openloc.model.records).
    held = BooleanAttribute(null=True)
    first_source = UnicodeAttribute(null=True)
    challenge = UnicodeAttribute(null=True)
    optout_evidence = UnicodeAttribute(null=True)
    by_area = CellsByAreaIndex()
    by_changed_hour = CellsByChangedHourIndex()


class CellAreaModel(Model):
    """A location area (radio, mcc, mnc, lac), keyed `area#…`."""

    class Meta:
        table_name = "openloc-cell-areas"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    lat = NumberAttribute(null=True)
    lon = NumberAttribute(null=True)
    radius = NumberAttribute(default=0)
    avg_cell_radius = NumberAttribute(default=0)
    num_cells = NumberAttribute(default=0)
    region = UnicodeAttribute(null=True)
    modified = UTCDateTimeAttribute(null=True)


class ApiKeyModel(Model):
    """An API key and what it may do (maxreq = requests per day and endpoint, maxsubmit =
    submitted observations per day; 0 = unlimited; an item without maxsubmit has the default)."""

    class Meta:
        table_name = "openloc-api-keys"
        region = "us-east-1"

    key = UnicodeAttribute(hash_key=True)
    shortname = UnicodeAttribute(null=True)
    maxreq = NumberAttribute(default=0)
    maxsubmit = NumberAttribute(null=True)
    allow_locate = BooleanAttribute(default=True)
    allow_region = BooleanAttribute(default=True)
    allow_submit = BooleanAttribute(default=True)
    allow_transfer = BooleanAttribute(default=False)


class DatamapModel(Model):
    """One ~100 m grid cell with observations; `pk` = shard, `grid` = "<lat*1000>,<lon*1000>"."""

    class Meta:
        table_name = "openloc-datamap"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    grid = UnicodeAttribute(range_key=True)
    modified = UnicodeAttribute(null=True)  # ISO date


class StatModel(Model):
    """A daily counter: `metric` + `day` (ISO date)."""

    class Meta:
        table_name = "openloc-stats"
        region = "us-east-1"

    metric = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)


class ProcessedModel(Model):
    """An SQS message that was fully aggregated (idempotency marker, expires after a week)."""

    class Meta:
        table_name = "openloc-processed"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    expires = TTLAttribute(null=True)


class SourceBudgetModel(Model):
    """New stations one submitter source asked for on one UTC day (`pk` = "<source>#<day>"),
    spent by the aggregator's admission of new stations; expires a few days later."""

    class Meta:
        table_name = "openloc-sources"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    single = NumberAttribute(default=0)  # new stations named by a single report
    fresh = NumberAttribute(default=0)  # new stations in all
    held = NumberAttribute(default=0)  # new stations held back (stored, not locatable)
    expires = TTLAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    StationModel,
    CellAreaModel,
    ApiKeyModel,
    DatamapModel,
    StatModel,
    ProcessedModel,
    SourceBudgetModel,
)


def bind_models(settings: Settings) -> None:
    """Point every model at the configured tables, region and endpoint (idempotent)."""
    names: dict[type[Model], str] = {
        StationModel: settings.stations_table,
        CellAreaModel: settings.cell_areas_table,
        ApiKeyModel: settings.api_keys_table,
        DatamapModel: settings.datamap_table,
        StatModel: settings.stats_table,
        ProcessedModel: settings.processed_table,
        SourceBudgetModel: settings.sources_table,
    }
    for model, name in names.items():
        meta: Any = model.Meta
        changed = (
            meta.table_name != name
            or getattr(meta, "host", None) != settings.aws_endpoint_url
            or meta.region != settings.aws_region
        )
        meta.table_name = name
        meta.host = settings.aws_endpoint_url
        meta.region = settings.aws_region
        meta.connect_timeout_seconds = 2
        meta.read_timeout_seconds = 5
        meta.max_retry_attempts = 1  # one retry, then the API answers 503 (docs/api.md)
        if changed:
            model._connection = None
