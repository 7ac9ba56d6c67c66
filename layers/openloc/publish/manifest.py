"""The downloads manifest: `downloads.json` at the root of the assets bucket.

Every published file (cell exports, station dumps, offline packs, …) is listed here with its
size, row count and SHA-256, so the website and mirrors find the current files without listing
the bucket. Jobs add their files through `update_manifest` after the object is uploaded:

    update_manifest(assets, [DownloadFile(kind=FileKind.CELL_FULL, path=key, ...)], now=now)

The update is a read-modify-write of one small JSON document:

- the new document is written whole in one PutObject (`Content-Type: application/json`,
  `Cache-Control: public, max-age=60`), so readers see either the old or the new manifest;
- the write is conditional on the ETag read (`If-Match`, or `If-None-Match: *` when there was no
  manifest yet), so two jobs finishing at the same moment cannot lose each other's entries: the
  loser re-reads and re-applies its change (bounded retries);
- entries are dropped when superseded (more than `keep_latest` newer files of the same kind and
  region), expired (older than `max_age`, e.g. diffs the bucket's lifecycle rule deletes) or when
  their object is gone from the bucket (`verify`, `ObjectStore.existing`).

Fields written by newer code are kept on read (extra fields are allowed and written back).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from openloc.model.kinds import FileKind
from openloc.store.objects import ObjectStore

MANIFEST_KEY = "downloads.json"
CONTENT_TYPE = "application/json"
CACHE_CONTROL = "public, max-age=60"
MAX_ATTEMPTS = 5


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; sub-second precision is dropped (the wire has seconds)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=0)


class DownloadFile(BaseModel):
    """One published file (an object in the assets bucket, served by CloudFront at `/<path>`)."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(min_length=1, description='"cell-full", "cell-diff", "wifi-dump", "offline-pack", …')
    path: str = Field(min_length=1, description="object key in the assets bucket (no leading slash)")
    region: str = Field(default="world", description='"world", an ISO 3166 alpha-2 code or "mcc-262"')
    format: str = Field(min_length=1, description='file format, e.g. "csv.gz"')
    size: int = Field(ge=0, description="bytes of the object as stored")
    rows: int | None = Field(default=None, ge=0, description="data rows (without the header), if tabular")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the object as stored")
    created: datetime = Field(description="when the file was written (UTC)")

    @field_validator("created")
    @classmethod
    def _created_utc(cls, value: datetime) -> datetime:
        return _utc(value)

    @field_validator("path")
    @classmethod
    def _relative_path(cls, value: str) -> str:
        if value.startswith("/"):
            raise ValueError("path is an object key, without a leading slash")
        return value

    @field_serializer("created")
    def _created_iso(self, value: datetime) -> str:
        return _iso(value)


class Manifest(BaseModel):
    """The whole `downloads.json` document (`version` 1)."""

    model_config = ConfigDict(extra="allow")

    version: Literal[1] = 1
    updated: datetime
    files: list[DownloadFile] = Field(default_factory=list)

    @field_validator("updated")
    @classmethod
    def _updated_utc(cls, value: datetime) -> datetime:
        return _utc(value)

    @field_serializer("updated")
    def _updated_iso(self, value: datetime) -> str:
        return _iso(value)

    def to_json(self) -> bytes:
        return self.model_dump_json(indent=1).encode()


@dataclass(frozen=True)
class Retention:
    """How long entries of one kind stay listed: the `keep_latest` newest per (kind, region)
    (None = all), the entries of the `keep_generations` newest generations per (kind, region) (a
    generation = the entries written by one run, i.e. with the same `created`; None = all) and
    none older than `max_age` (None = no limit)."""

    keep_latest: int | None = None
    max_age: timedelta | None = None
    keep_generations: int | None = None


# Full exports: the last three days stay listed (a client that read the previous manifest can
# still fetch its file). Diffs: the last week, matching the lifecycle rule on exports/cells/diff/.
DEFAULT_RETENTION: Mapping[str, Retention] = {
    FileKind.CELL_FULL: Retention(keep_latest=3),
    FileKind.CELL_DIFF: Retention(max_age=timedelta(days=7)),
}
FALLBACK_RETENTION = Retention(keep_latest=3)


@dataclass(frozen=True)
class ManifestUpdate:
    manifest: Manifest
    dropped: list[DownloadFile]  # entries no longer listed (their objects may still exist)
    attempts: int


class ManifestConflict(RuntimeError):
    """The manifest kept changing under this writer for `MAX_ATTEMPTS` rounds."""


def apply_changes(
    current: Manifest | None,
    added: Iterable[DownloadFile],
    now: datetime,
    retention: Mapping[str, Retention] = DEFAULT_RETENTION,
    existing_paths: Callable[[Sequence[str]], set[str]] | None = None,
) -> tuple[Manifest, list[DownloadFile]]:
    """The manifest after adding `added` (a path listed again replaces its old entry) and
    dropping superseded, expired and (with `existing_paths`) vanished entries. Pure apart from
    `existing_paths`, which answers which of the given paths still exist."""
    now = _utc(now)
    by_path: dict[str, DownloadFile] = {f.path: f for f in (current.files if current else [])}
    new_paths = set()
    for entry in added:
        by_path[entry.path] = entry
        new_paths.add(entry.path)
    keep: list[DownloadFile] = []
    dropped: list[DownloadFile] = []
    groups: dict[tuple[str, str], list[DownloadFile]] = {}
    for entry in by_path.values():
        groups.setdefault((entry.kind, entry.region), []).append(entry)
    for (kind, _region), entries in groups.items():
        rule = retention.get(kind, FALLBACK_RETENTION)
        entries.sort(key=lambda f: (f.created, f.path), reverse=True)
        generations = sorted({f.created for f in entries}, reverse=True)[: rule.keep_generations]
        for index, entry in enumerate(entries):
            superseded = (rule.keep_latest is not None and index >= rule.keep_latest) or (
                rule.keep_generations is not None and entry.created not in generations
            )
            expired = rule.max_age is not None and now - entry.created > rule.max_age
            (dropped if (superseded or expired) else keep).append(entry)
    if existing_paths is not None:
        # Files just added were uploaded by the caller: only older entries are checked.
        checked = [f.path for f in keep if f.path not in new_paths]
        present = existing_paths(checked) if checked else set()
        dropped.extend(f for f in keep if f.path not in new_paths and f.path not in present)
        keep = [f for f in keep if f.path in new_paths or f.path in present]
    keep.sort(key=lambda f: (f.kind, f.region, -f.created.timestamp(), f.path))
    return Manifest(updated=now, files=keep), dropped


def read_manifest(assets: ObjectStore, key: str = MANIFEST_KEY) -> tuple[Manifest | None, str | None]:
    """The stored manifest and its version tag; (None, None) when there is none yet."""
    body, version = assets.get_versioned(key)
    if body is None:
        return None, None
    return Manifest.model_validate_json(body), version


def update_manifest(
    assets: ObjectStore,
    added: Sequence[DownloadFile],
    now: datetime | None = None,
    retention: Mapping[str, Retention] = DEFAULT_RETENTION,
    verify: bool = True,
    key: str = MANIFEST_KEY,
    sleep: Callable[[float], None] = time.sleep,
) -> ManifestUpdate:
    """Add `added` to the manifest in `assets` and write it back atomically (module docstring)."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        current, version = read_manifest(assets, key)
        manifest, dropped = apply_changes(
            current, added, now or datetime.now(UTC), retention, assets.existing if verify else None
        )
        if assets.put_if(key, manifest.to_json(), version, CONTENT_TYPE, CACHE_CONTROL):
            return ManifestUpdate(manifest, dropped, attempt)
        sleep(0.05 * attempt)
    raise ManifestConflict(f"{key} changed under this writer {MAX_ATTEMPTS} times")


def delete_dropped(assets: ObjectStore, dropped: Iterable[DownloadFile]) -> int:
    """Delete the objects of dropped entries (for kinds no lifecycle rule expires); returns count."""
    return assets.delete(sorted({f.path for f in dropped}))
