"""The website on the local stack: one stack (with `site=True`) for the whole package, used by the
HTTP-level serving tests and by a real headless browser (Debian's chromium driven by Playwright).

Skipped when the npm libraries of the site are missing, the browser tests also when chromium is
(`make test` installs both: the `geoip` and `browser` targets). Screenshots go to
`$OPENLOC_SCREENSHOTS` when set (`make screenshots` sets docs/screenshots), else to a temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openloc.local.stack import LocalStack
from openloc.publish.manifest import DownloadFile, update_manifest
from openloc.store.aws import client
from openloc.store.objects import S3ObjectStore
from openloc.website import SiteBuildError, site_files

# Two earlier exports listed next to the one the stack writes at start (dated today, so newer).
EXPORT_KEY = "exports/cells/full/MLS-full-cell-export-2020-01-02T000000.csv.gz"
OLDER_EXPORT_KEY = "exports/cells/full/MLS-full-cell-export-2020-01-01T000000.csv.gz"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("OPENLOC_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="package")
def site_stack() -> Iterator[LocalStack]:
    """The local stack with its website, plus two exports listed in downloads.json (written with
    `openloc.publish.manifest`, as the export jobs do).

    One per package: moto's backends are process-global, so no other stack may run meanwhile."""
    try:
        site_files()
    except SiteBuildError as error:
        pytest.skip(f"website cannot be built: {error}")
    stack = LocalStack(
        data_dir=None, port=0, run_poller=False, run_scheduler=False, site=True, env={"GEOIP_PATH": ""}
    )
    stack.start()
    try:
        s3 = client("s3")
        bucket = stack.settings.assets_bucket
        files = []
        for key, created in (
            (OLDER_EXPORT_KEY, "2020-01-01T00:37:05Z"),
            (EXPORT_KEY, "2020-01-02T00:37:05Z"),
        ):
            body = b"radio,mcc,net,area,cell\n"
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
            files.append(
                DownloadFile(
                    kind="cell-full", path=key, format="csv.gz", size=len(body), rows=4,
                    sha256=hashlib.sha256(body).hexdigest(), created=datetime.fromisoformat(created),
                )
            )  # fmt: skip
        update_manifest(S3ObjectStore(s3, bucket), files, now=datetime.now(UTC))
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="package")
def browser(site_stack: LocalStack) -> Iterator[Any]:
    if chromium_path() is None:
        pytest.skip("chromium is not installed (`make browser` installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield instance
        finally:
            instance.close()
