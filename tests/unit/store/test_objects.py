"""The S3 object store's multipart writer (moto, in process)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from openloc.store.objects import MIN_PART_SIZE, S3ObjectStore

from tests.unit.support import BUCKET


def test_multipart_writer_streams_parts_with_bounded_buffer(s3: Any) -> None:
    data = os.urandom(MIN_PART_SIZE * 2 + 123)
    with S3ObjectStore(s3, BUCKET).writer(
        "big.bin", "application/octet-stream", None, MIN_PART_SIZE
    ) as writer:
        for start in range(0, len(data), 1 << 20):
            writer.write(data[start : start + (1 << 20)])
    assert writer.result is not None and writer.result.parts == 3
    assert writer.peak_buffer <= MIN_PART_SIZE + (1 << 20)
    assert s3.get_object(Bucket=BUCKET, Key="big.bin")["Body"].read() == data
    assert writer.result.sha256 == hashlib.sha256(data).hexdigest()


def test_multipart_writer_aborts_on_error(s3: Any) -> None:
    with (
        pytest.raises(RuntimeError),
        S3ObjectStore(s3, BUCKET).writer(
            "broken.bin", "application/octet-stream", None, MIN_PART_SIZE
        ) as writer,
    ):
        writer.write(b"x" * (MIN_PART_SIZE + 1))
        raise RuntimeError("scan failed")
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
