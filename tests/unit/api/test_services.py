"""What the HTTP apps depend on: the cached downloads manifest."""

from __future__ import annotations

from openloc.api.services import cached_manifest
from openloc.publish.manifest import Manifest


def test_manifest_cache_reads_once_a_minute() -> None:
    reads: list[int] = []
    clock = [0.0]

    def read() -> Manifest | None:
        reads.append(1)
        return None

    get = cached_manifest(read, lambda: clock[0])
    get(), get()
    clock[0] = 59.0
    get()
    assert len(reads) == 1
    clock[0] = 60.0
    get()
    assert len(reads) == 2
