"""Where the GeoIP database comes from: local files, or an S3 object fetched once per process.

`GEOIP_PATH` is a comma-separated list of mmdb files or directories (see `openloc.locate.geoip`);
an entry of the form `s3://bucket/key` is downloaded to a local cache directory (in Lambda: /tmp,
during init, so a SnapStart snapshot already holds it) and replaced by the local path. A failed
download is logged and that entry skipped: the service then answers without the IP fallback
rather than not at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "openloc-geoip"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """("bucket", "key") of `s3://bucket/key`; ValueError for anything else."""
    parsed = urlparse(uri)
    key = parsed.path.lstrip("/")
    if parsed.scheme != "s3" or not parsed.netloc or not key or key.endswith("/"):
        raise ValueError(f"not an S3 object URI: {uri!r}")
    return parsed.netloc, key


def _fetch(uri: str, cache_dir: Path, s3: Any) -> Path:
    bucket, key = parse_s3_uri(uri)
    target = cache_dir / bucket / key
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    s3.download_file(bucket, key, str(partial))
    partial.replace(target)  # atomic: a concurrent reader never sees half a database
    return target


def resolve_geoip_path(
    path: str,
    *,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    s3_client: Callable[[], Any] | None = None,
) -> str:
    """`path` with every s3:// entry replaced by a downloaded local copy (failed ones dropped)."""
    entries = [entry.strip() for entry in path.split(",") if entry.strip()]
    if not any(entry.startswith("s3://") for entry in entries):
        return path
    if s3_client is None:
        from openloc.store.aws import client

        def s3_client() -> Any:
            return client("s3")

    resolved: list[str] = []
    for entry in entries:
        if not entry.startswith("s3://"):
            resolved.append(entry)
            continue
        try:
            resolved.append(str(_fetch(entry, cache_dir, s3_client())))
        except Exception as error:  # any S3 or URI failure: run without this database
            from openloc.observability import logger

            logger.warning("GeoIP database not fetched", extra={"uri": entry, "error": repr(error)})
    return ",".join(resolved)
