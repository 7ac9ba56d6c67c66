"""`station_publish` (daily): the privacy-safe Wi-Fi/Bluetooth dumps and the offline packs.

One full read of the stations and the cell areas feeds every file (`publish.dumps`); which
stations are published, and how precisely, is `publish.policy` (docs/privacy.md).
"""

from __future__ import annotations

from datetime import datetime

from openloc.jobs.stores import JobResult, JobStores
from openloc.publish.dumps import run_publication
from openloc.publish.policy import PublishPolicy

TASK = "station_publish"


def policy(stores: JobStores) -> PublishPolicy:
    settings = stores.settings
    return PublishPolicy(
        settings.publish_min_samples, settings.publish_min_days, settings.cell_export_min_samples
    )


def run(stores: JobStores, now: datetime) -> JobResult:
    published = run_publication(
        stores.assets, stores.stations.scan_stations(), stores.stations.scan_areas(), now, policy(stores)
    )
    return JobResult(
        TASK,
        summary={"files": [f.path for f in published.files], "deleted": published.deleted},
        metrics={"PublishedFiles": len(published.files)},
    )
