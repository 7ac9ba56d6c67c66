"""The S3 object store's multipart writer (moto, in process)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from openloc.store.objects import MIN_PART_SIZE, MemoryObjectStore, Piece, S3ObjectStore

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


# -- compose: one object from byte ranges of others (the merge step of sharded jobs) ------------


def _pieces_data(sizes: list[int]) -> list[bytes]:
    return [os.urandom(size) for size in sizes]


@pytest.mark.parametrize(
    "sizes",
    [
        [10, 20, 30],  # all small: one buffered PutObject
        [MIN_PART_SIZE + 10, 5, MIN_PART_SIZE * 2],  # large ones copied, a small one between
        [100, MIN_PART_SIZE * 2 + 1, 7],  # the head of a large piece tops the buffer up
        [MIN_PART_SIZE + 3, 1],
    ],
)
def test_compose_concatenates_pieces_across_buckets(s3: Any, sizes: list[int]) -> None:
    s3.create_bucket(Bucket="work")
    source, target = S3ObjectStore(s3, "work"), S3ObjectStore(s3, BUCKET)
    parts = _pieces_data(sizes)
    for index, data in enumerate(parts):
        source.put(f"part-{index}", b"head" + data + b"tail", "application/octet-stream", "no-store")
    pieces = [Piece(source, f"part-{i}", 4, 4 + len(data)) for i, data in enumerate(parts)]
    result = target.compose("whole.bin", pieces, "text/csv", "public, max-age=60")
    whole = b"".join(parts)
    stored = s3.get_object(Bucket=BUCKET, Key="whole.bin")
    assert stored["Body"].read() == whole
    assert stored["ContentType"] == "text/csv" and stored["CacheControl"] == "public, max-age=60"
    assert result.size == len(whole) and result.sha256 == hashlib.sha256(whole).hexdigest()
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_compose_copies_large_pieces_inside_s3(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = S3ObjectStore(s3, BUCKET)
    big = os.urandom(MIN_PART_SIZE + 1)
    store.put("big", big, "application/octet-stream", "no-store")
    copies: list[str] = []
    real = s3.upload_part_copy

    def counting(**kwargs: Any) -> Any:
        copies.append(kwargs["CopySourceRange"])
        return real(**kwargs)

    monkeypatch.setattr(s3, "upload_part_copy", counting)
    store.compose("copy", [Piece(store, "big"), Piece(store, "big", 0, 3)], "x/y", "no-store")
    assert copies == [f"bytes=0-{MIN_PART_SIZE}"]
    assert store.get("copy") == big + big[:3]


def test_compose_of_a_missing_piece_fails_and_leaves_nothing(s3: Any) -> None:
    store = S3ObjectStore(s3, BUCKET)
    store.put("a", b"x" * 10, "application/octet-stream", "no-store")
    with pytest.raises(FileNotFoundError):
        store.compose("whole", [Piece(store, "a"), Piece(store, "missing")], "x/y", "no-store")
    assert store.get("whole") is None
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_ranges_and_sizes_in_s3_and_in_memory(s3: Any) -> None:
    for store in (S3ObjectStore(s3, BUCKET), MemoryObjectStore()):
        store.put("k", b"0123456789", "text/plain", "no-store")
        assert store.get_range("k", 2, 5) == b"234"
        assert store.size("k") == 10 and store.size("nothing") is None
        with pytest.raises(FileNotFoundError):
            store.get_range("nothing", 0, 1)


def test_memory_compose_matches(s3: Any) -> None:
    memory = MemoryObjectStore()
    memory.put("a", b"abc", "x/y", "no-store")
    memory.put("b", b"defgh", "x/y", "no-store")
    result = memory.compose("ab", [Piece(memory, "a", 1), Piece(memory, "b", 0, 2)], "x/y", "c")
    assert memory.get("ab") == b"bcde" and result.sha256 == hashlib.sha256(b"bcde").hexdigest()
