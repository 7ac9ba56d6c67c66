"""An `ObjectStore` on a local folder, for benchmarks at sizes that do not fit in memory: the
objects live on disk, so a shard's measured memory is its own working set, as in Lambda where
the objects are in S3. (Not a production store: no conditional writes across processes.)"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from openloc.store.objects import (
    DEFAULT_PART_SIZE,
    Piece,
    UploadResult,
    _HashingWriter,
    compose_pieces,
    file_sha256,
)


class DiskObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._versions: dict[str, int] = {}

    def _path(self, key: str) -> Path:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        self._path(key).write_bytes(body)
        with self._lock:
            self._versions[key] = self._versions.get(key, 0) + 1

    def get(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def delete(self, keys: Iterable[str]) -> int:
        count = 0
        for key in list(keys):
            path = self.root / key
            if path.is_file():
                path.unlink()
                count += 1
        return count

    def keys(self, prefix: str) -> Iterator[str]:
        found = sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())
        yield from (k for k in found if k.startswith(prefix))

    def existing(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if (self.root / k).is_file()}

    def get_versioned(self, key: str) -> tuple[bytes | None, str | None]:
        body = self.get(key)
        return (body, str(self._versions.get(key, 1))) if body is not None else (None, None)

    def put_if(
        self, key: str, body: bytes, version: str | None, content_type: str, cache_control: str
    ) -> bool:
        with self._lock:
            current = str(self._versions.get(key, 1)) if (self.root / key).is_file() else None
            if current != version:
                return False
            self._path(key).write_bytes(body)
            self._versions[key] = self._versions.get(key, 1) + 1
            return True

    def writer(
        self,
        key: str,
        content_type: str,
        cache_control: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> _DiskWriter:
        return _DiskWriter(self._path(key), key, part_size)

    def put_file(self, key: str, path: Path, content_type: str, cache_control: str) -> UploadResult:
        shutil.copyfile(path, self._path(key))
        return UploadResult(key, path.stat().st_size, file_sha256(path), 1)

    def get_range(self, key: str, start: int, end: int) -> bytes:
        path = self.root / key
        if not path.is_file():
            raise FileNotFoundError(key)
        with path.open("rb") as stream:
            stream.seek(start)
            return stream.read(max(0, end - start))

    def size(self, key: str) -> int | None:
        path = self.root / key
        return path.stat().st_size if path.is_file() else None

    def compose(
        self, key: str, pieces: Sequence[Piece], content_type: str, cache_control: str
    ) -> UploadResult:
        return compose_pieces(key, pieces, _DiskComposer(self._path(key)))


class _DiskWriter(_HashingWriter):
    def __init__(self, path: Path, key: str, part_size: int) -> None:
        super().__init__(key, part_size)
        self.path = path
        self.stream: IO[bytes] = path.open("wb")

    def _send_part(self, part: bytearray | bytes) -> None:
        self.stream.write(part)

    def _finish(self, last: bytes | None) -> None:
        if last:
            self.stream.write(last)
        self.stream.close()

    def abort(self) -> None:
        self.stream.close()
        super().abort()


class _DiskComposer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.stream: IO[bytes] = path.open("wb")
        self.parts = 0

    def can_copy(self, piece: Piece) -> bool:
        return False  # every byte is read (for the hash) and written once

    def copy_part(self, piece: Piece, start: int, end: int) -> None:
        raise NotImplementedError

    def upload_part(self, data: bytes) -> None:
        self.parts += 1
        self.stream.write(data)

    def complete(self) -> int:
        self.stream.close()
        return max(self.parts, 1)

    def abort(self) -> None:
        self.stream.close()
