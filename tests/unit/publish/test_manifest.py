"""The downloads manifest: entry model, retention rules, atomic conditional writes (moto S3, the
`s3` fixture of tests/unit/conftest.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openloc.publish.manifest import (
    CACHE_CONTROL,
    MANIFEST_KEY,
    DownloadFile,
    Manifest,
    ManifestConflict,
    Retention,
    apply_changes,
    delete_dropped,
    read_manifest,
    update_manifest,
)
from openloc.store.objects import S3ObjectStore
from pydantic import ValidationError

from tests.unit.support import BUCKET

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SHA = "ab" * 32


def entry(kind: str, path: str, created: datetime, region: str = "world", **kw: Any) -> DownloadFile:
    values: dict[str, Any] = {
        "kind": kind, "path": path, "region": region, "format": "csv.gz", "size": 10, "rows": 1,
        "sha256": SHA, "created": created,
    }  # fmt: skip
    values.update(kw)
    return DownloadFile(**values)


def full(day: int) -> DownloadFile:
    return entry(
        "cell-full",
        f"exports/cells/full/MLS-full-cell-export-2026-11-{day:02d}T000000.csv.gz",
        datetime(2026, 11, day, 0, 37, tzinfo=UTC),
    )


def diff(hours_ago: int) -> DownloadFile:
    created = NOW - timedelta(hours=hours_ago)
    return entry(
        "cell-diff", f"exports/cells/diff/MLS-diff-cell-export-{created:%Y-%m-%dT%H%M%S}.csv.gz", created
    )


def test_entry_serialises_as_the_contract() -> None:
    doc = json.loads(Manifest(updated=NOW, files=[full(23)]).to_json())
    assert doc == {
        "version": 1,
        "updated": "2026-11-23T12:00:00Z",
        "files": [
            {
                "kind": "cell-full",
                "path": "exports/cells/full/MLS-full-cell-export-2026-11-23T000000.csv.gz",
                "region": "world",
                "format": "csv.gz",
                "size": 10,
                "rows": 1,
                "sha256": SHA,
                "created": "2026-11-23T00:37:00Z",
            }
        ],
    }
    # Round trip, including fields this version does not know.
    doc["files"][0]["bbox"] = [1, 2, 3, 4]
    again = json.loads(Manifest.model_validate_json(json.dumps(doc)).to_json())
    assert again == doc


@pytest.mark.parametrize(
    "override", [{"sha256": "xyz"}, {"size": -1}, {"path": "/exports/x"}, {"kind": ""}, {"rows": -2}]
)
def test_entry_validation(override: dict[str, Any]) -> None:
    values = full(23).model_dump() | override
    with pytest.raises(ValidationError):
        DownloadFile(**values)


def test_naive_created_is_utc() -> None:
    assert entry("k", "p", datetime(2026, 1, 1, 5, 0)).created == datetime(2026, 1, 1, 5, 0, tzinfo=UTC)


def test_superseded_full_exports_dropped() -> None:
    current = Manifest(updated=NOW, files=[full(19), full(20), full(21), full(22)])
    manifest, dropped = apply_changes(current, [full(23)], NOW)
    assert [f.path for f in manifest.files] == [full(23).path, full(22).path, full(21).path]
    assert {f.path for f in dropped} == {full(19).path, full(20).path}


def test_expired_diffs_dropped_and_regions_kinds_independent() -> None:
    current = Manifest(
        updated=NOW,
        files=[diff(1), diff(24 * 7 + 1), entry("offline-pack", "exports/packs/de-1.zip", NOW, "DE")],
    )
    pack_fr = entry("offline-pack", "exports/packs/fr-1.zip", NOW, "FR")
    manifest, dropped = apply_changes(current, [diff(0), pack_fr], NOW)
    assert [f.path for f in dropped] == [diff(24 * 7 + 1).path]
    assert {f.region for f in manifest.files if f.kind == "offline-pack"} == {"DE", "FR"}
    assert len([f for f in manifest.files if f.kind == "cell-diff"]) == 2


def test_same_path_replaces_entry_and_custom_retention() -> None:
    current = Manifest(updated=NOW, files=[full(23)])
    rewritten = full(23).model_copy(update={"size": 99})
    manifest, dropped = apply_changes(
        current, [rewritten], NOW, retention={"cell-full": Retention(keep_latest=1)}
    )
    assert [f.size for f in manifest.files] == [99] and dropped == []


def test_vanished_objects_dropped_but_new_ones_kept() -> None:
    current = Manifest(updated=NOW, files=[diff(2), diff(3)])
    asked: list[str] = []

    def exists(paths: Any) -> set[str]:
        asked.extend(paths)
        return {diff(2).path}

    manifest, dropped = apply_changes(current, [diff(0)], NOW, existing_paths=exists)
    assert {f.path for f in manifest.files} == {diff(0).path, diff(2).path}
    assert [f.path for f in dropped] == [diff(3).path]
    assert diff(0).path not in asked  # the caller just uploaded it


# --- against S3 (moto, in process) -----------------------------------------------------------


def _put(s3: Any, f: DownloadFile) -> None:
    s3.put_object(Bucket=BUCKET, Key=f.path, Body=b"x")


def test_update_manifest_writes_atomically_with_headers(s3: Any) -> None:
    for f in (full(21), full(22)):
        _put(s3, f)
    first = update_manifest(S3ObjectStore(s3, BUCKET), [full(21)], now=NOW)
    assert first.attempts == 1
    second = update_manifest(S3ObjectStore(s3, BUCKET), [full(22)], now=NOW)
    head = s3.head_object(Bucket=BUCKET, Key=MANIFEST_KEY)
    assert head["ContentType"] == "application/json" and head["CacheControl"] == CACHE_CONTROL
    stored, etag = read_manifest(S3ObjectStore(s3, BUCKET))
    assert stored == second.manifest and etag == head["ETag"]
    assert [f.path for f in stored.files] == [full(22).path, full(21).path]


def test_update_manifest_drops_entries_whose_objects_are_gone(s3: Any) -> None:
    for f in (diff(1), diff(2)):
        _put(s3, f)
    update_manifest(S3ObjectStore(s3, BUCKET), [diff(1), diff(2)], now=NOW)
    s3.delete_object(Bucket=BUCKET, Key=diff(2).path)  # e.g. expired by the lifecycle rule
    _put(s3, diff(0))
    result = update_manifest(S3ObjectStore(s3, BUCKET), [diff(0)], now=NOW)
    assert [f.path for f in result.dropped] == [diff(2).path]
    assert {f.path for f in result.manifest.files} == {diff(0).path, diff(1).path}


def test_delete_dropped(s3: Any) -> None:
    for day in (19, 20, 21, 22, 23):
        _put(s3, full(day))
        result = update_manifest(S3ObjectStore(s3, BUCKET), [full(day)], now=NOW)
        delete_dropped(S3ObjectStore(s3, BUCKET), result.dropped)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="exports/")["Contents"]}
    assert keys == {full(21).path, full(22).path, full(23).path}


class _RacingS3:
    """Wraps an S3 client: before each of the first `races` manifest writes, another writer
    adds its own entry, so the conditional put fails and the writer must re-read."""

    def __init__(self, s3: Any, races: int) -> None:
        self._s3 = s3
        self.races = races
        self.puts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def put_object(self, **kw: Any) -> Any:
        self.puts += 1
        if kw.get("Key") == MANIFEST_KEY and self.races > 0:
            self.races -= 1
            # Its own region each time, so every racing write changes the document.
            other = entry("wifi-dump", f"exports/wifi/dump-{self.races}.csv.gz", NOW, region=f"r{self.races}")
            self._s3.put_object(Bucket=BUCKET, Key=other.path, Body=b"x")
            update_manifest(S3ObjectStore(self._s3, BUCKET), [other], now=NOW)
        return self._s3.put_object(**kw)


def test_concurrent_writer_loses_no_entry(s3: Any) -> None:
    _put(s3, full(23))
    racing = _RacingS3(s3, races=2)
    result = update_manifest(S3ObjectStore(racing, BUCKET), [full(23)], now=NOW, sleep=lambda _s: None)
    assert result.attempts == 3
    stored, _ = read_manifest(S3ObjectStore(s3, BUCKET))
    assert stored is not None
    assert {f.path for f in stored.files} == {
        full(23).path,
        "exports/wifi/dump-0.csv.gz",
        "exports/wifi/dump-1.csv.gz",
    }


def test_endless_conflict_raises(s3: Any) -> None:
    _put(s3, full(23))
    with pytest.raises(ManifestConflict):
        update_manifest(
            S3ObjectStore(_RacingS3(s3, races=99), BUCKET), [full(23)], now=NOW, sleep=lambda _s: None
        )
