"""GEOIP_PATH entries that name S3 objects are fetched once and replaced by the local copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from openloc.store.geoip_file import parse_s3_uri, resolve_geoip_path


@pytest.fixture
def s3() -> Any:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="geo")
        client.put_object(Bucket="geo", Key="dbs/city.mmdb", Body=b"mmdb bytes")
        yield client


def test_local_paths_pass_through_untouched(tmp_path: Path) -> None:
    assert resolve_geoip_path("/opt/geoip,/data/x.mmdb", cache_dir=tmp_path) == "/opt/geoip,/data/x.mmdb"
    assert resolve_geoip_path("", cache_dir=tmp_path) == ""


def test_s3_entry_is_downloaded_and_replaced(tmp_path: Path, s3: Any) -> None:
    resolved = resolve_geoip_path(
        "/opt/a.mmdb, s3://geo/dbs/city.mmdb", cache_dir=tmp_path, s3_client=lambda: s3
    )
    local, fetched = resolved.split(",")
    assert local == "/opt/a.mmdb"
    assert Path(fetched).read_bytes() == b"mmdb bytes"
    assert Path(fetched).is_relative_to(tmp_path)
    assert not list(tmp_path.rglob("*.part"))


def test_second_resolve_reuses_the_download(tmp_path: Path, s3: Any) -> None:
    first = resolve_geoip_path("s3://geo/dbs/city.mmdb", cache_dir=tmp_path, s3_client=lambda: s3)
    s3.delete_object(Bucket="geo", Key="dbs/city.mmdb")
    assert resolve_geoip_path("s3://geo/dbs/city.mmdb", cache_dir=tmp_path, s3_client=lambda: s3) == first


def test_missing_object_is_skipped_not_fatal(tmp_path: Path, s3: Any) -> None:
    resolved = resolve_geoip_path("s3://geo/nope.mmdb,/opt/b.mmdb", cache_dir=tmp_path, s3_client=lambda: s3)
    assert resolved == "/opt/b.mmdb"


@pytest.mark.parametrize("uri", ["s3://", "s3://bucket", "s3://bucket/", "https://x/y.mmdb", "s3:///key"])
def test_parse_rejects_non_object_uris(uri: str) -> None:
    with pytest.raises(ValueError, match="not an S3 object URI"):
        parse_s3_uri(uri)


def test_parse_splits_bucket_and_key() -> None:
    assert parse_s3_uri("s3://b/some/key.mmdb") == ("b", "some/key.mmdb")
