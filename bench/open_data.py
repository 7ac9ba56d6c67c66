"""Cell export and import throughput and memory.

Run: `.venv/bin/python bench/open_data.py [--sizes 100000 1000000] [--moto-cells 20000]`.

1. Export (stand-ins): `write_export` — the full export's path after the table read: parallel
   segment producers → publish filter → MLS CSV → gzip → multipart writer — over a synthetic
   cells table that *generates* its rows (it holds nothing, so the measured memory is the
   export's own), into an S3 stand-in that hashes and discards each uploaded part. rows/s from
   a plain run; peak Python heap (tracemalloc) from a second, traced run; max RSS of the process.
2. Export end to end on moto (in process): the `cell_export_full` job with the real `DynamoCellSource`
   (low-level Scan of the `by_area` index, 4 segments) and a real S3 multipart upload, for
   `--moto-cells` cells (moto's own DynamoDB is the bottleneck there, not the export).
3. Import: `import_cells` of a gzipped MLS CSV — into the in-memory store (parsing, validation,
   region lookup, batching) and into moto's DynamoDB (BatchWriteItem through pynamodb, 4 threads).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import resource
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from openloc.ingest.cell_import import import_cells
from openloc.model.records import StationRecord
from openloc.publish.cell_export import HEADER, export_row, write_export
from openloc.store.cell_source import all_cells, record_from_raw
from openloc.store.objects import S3ObjectStore
from openloc.store.stations import MemoryStationStore

NOW = datetime(2026, 11, 23, 0, 37, tzinfo=UTC)
RADIOS = ("gsm", "wcdma", "lte", "nr")


MCCS = (262, 228, 208)  # DE, CH, FR: one region each, as most MCCs


def _mix(i: int) -> int:
    """A cheap deterministic pseudo-random integer per cell (no RNG object per row)."""
    return (i * 2_654_435_761 + 97) % 4_294_967_296


def synthetic_cell(i: int) -> StationRecord:
    """Cell `i` of a synthetic network: ~40 cells per location area, as in real networks."""
    area, h = i // 40, _mix(i)
    return StationRecord(
        key=f"cell#{RADIOS[area % 4]}#{MCCS[area % 3]}#{1 + area % 3:02d}#{1 + area % 60000}#{1 + i}",
        lat=47.0 + (h % 80_000) / 10_000, lon=6.0 + (h // 80_000 % 90_000) / 10_000,
        radius=float(100 + h % 20_000), samples=1 + h % 5000, psc=h % 504,
        created=NOW - timedelta(days=1 + h % 900), modified=NOW - timedelta(hours=1 + h % 2000),
    )  # fmt: skip


def dynamodb_item(record: StationRecord) -> dict[str, Any]:
    """The item as a low-level DynamoDB Scan page returns it (pynamodb's attribute formats)."""
    assert record.created is not None and record.modified is not None
    return {
        "pk": {"S": record.key}, "lat": {"N": repr(record.lat)}, "lon": {"N": repr(record.lon)},
        "radius": {"N": str(int(record.radius))}, "samples": {"N": str(record.samples)}, "psc": {"N": str(record.psc)},
        "created": {"S": record.created.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
        "modified": {"S": record.modified.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
        "block_count": {"N": "0"}, "region": {"S": "DE"},
    }  # fmt: skip


POOL = 4096


class GeneratedCells:
    """A CellSource stand-in with `total` cells: DynamoDB-JSON items (as a Scan page holds them,
    cycled from a pool of 4 096 made up front, so making them costs nothing per row) decoded by
    the real `record_from_raw` — only the network round trips of `DynamoCellSource` are missing."""

    pool = [dynamodb_item(synthetic_cell(i)) for i in range(POOL)]

    def __init__(self, total: int) -> None:
        self.total = total

    def scan_cells(self, segment: int, total_segments: int) -> Iterator[StationRecord]:
        pool = self.pool
        for i in range(segment, self.total, total_segments):
            yield record_from_raw(pool[i % POOL])

    def cells_changed(self, partition: str) -> Iterator[StationRecord]:
        return iter(())

    def approximate_count(self) -> int:
        return self.total


class DiscardingS3:
    """Just enough of the S3 client for `MultipartWriter`: parts are hashed and dropped."""

    def __init__(self) -> None:
        self.bytes = 0
        self.parts = 0
        self.digest = hashlib.sha256()

    def create_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {"UploadId": "bench"}

    def upload_part(self, Body: bytes, **_: Any) -> dict[str, str]:  # noqa: N803 (boto3's name)
        self.bytes += len(Body)
        self.parts += 1
        self.digest.update(Body)
        return {"ETag": str(self.parts)}

    def complete_multipart_upload(self, **_: Any) -> None:
        return None

    def put_object(self, Body: bytes, **_: Any) -> None:  # noqa: N803
        self.upload_part(Body)

    def abort_multipart_upload(self, **_: Any) -> None:
        return None


def export_stand_in(total: int, traced: bool) -> tuple[float, int, int, int]:
    """(seconds, rows, bytes, peak traced heap bytes or 0)."""
    s3 = DiscardingS3()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    assets = S3ObjectStore(s3, "bench")
    result = write_export(assets, "x.csv.gz", all_cells(GeneratedCells(total), 4), NOW, min_samples=3)
    elapsed = time.perf_counter() - started
    peak = 0
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return elapsed, result.rows, s3.bytes, peak


def csv_bytes(total: int) -> bytes:
    text = io.StringIO()
    text.write(",".join(HEADER) + "\r\n")
    for i in range(total):
        row = export_row(synthetic_cell(i))
        assert row is not None
        text.write(",".join(row) + "\r\n")
    return gzip.compress(text.getvalue().encode(), 6)


def moto_runs(cells: int, import_rows: int) -> list[str]:
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    import boto3
    from moto import mock_aws
    from openloc.jobs import cell_export_full
    from openloc.jobs.stores import JobStores
    from openloc.local.resources import create_tables
    from openloc.settings import Settings
    from openloc.store.cell_source import DynamoCellSource
    from openloc.store.stations import DynamoStationStore

    lines = []
    with mock_aws():
        settings = Settings()
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=settings.assets_bucket)
        create_tables(dynamodb, settings)
        store = DynamoStationStore(settings)
        started = time.perf_counter()
        store.put_stations(synthetic_cell(i) for i in range(cells))
        load = time.perf_counter() - started
        started = time.perf_counter()
        stores = JobStores.in_memory(settings)
        stores.cells = DynamoCellSource(dynamodb, settings.stations_table)
        stores.assets = S3ObjectStore(s3, settings.assets_bucket)
        result = SimpleNamespace(**cell_export_full.run(stores, NOW).summary)
        elapsed = time.perf_counter() - started
        lines.append(
            f"| export, moto DynamoDB + S3 (in process) | {cells:,} | {result.rows:,} | {elapsed:.1f} s | "
            f"{cells / elapsed:,.0f} cells read/s | — |"
        )
        data = csv_bytes(import_rows)
        fresh = Settings(stations_table="bench-stations", cell_areas_table="bench-areas")
        create_tables(dynamodb, fresh)
        started = time.perf_counter()
        imported = import_cells(io.BytesIO(data), DynamoStationStore(fresh), NOW, out=None)
        elapsed = time.perf_counter() - started
        lines.append(
            f"| import into moto DynamoDB (in process) | {import_rows:,} | {imported.imported:,} | {elapsed:.1f} s | "
            f"{import_rows / elapsed:,.0f} rows/s | — |"
        )
        lines.append(f"(loading the {cells:,} cells into moto with BatchWriteItem took {load:.1f} s)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--moto-cells", type=int, default=20_000)
    parser.add_argument("--moto-import-rows", type=int, default=20_000)
    args = parser.parse_args()
    print("| run | cells | rows out | time | throughput | peak heap (tracemalloc) |")
    print("|---|---:|---:|---:|---:|---:|")
    for total in args.sizes:
        elapsed, rows, size, _ = export_stand_in(total, traced=False)
        _, _, _, peak = export_stand_in(total, traced=True)
        print(
            f"| export, stand-ins | {total:,} | {rows:,} ({size / 1e6:.1f} MB gz) | {elapsed:.1f} s | "
            f"{total / elapsed:,.0f} cells/s | {peak / 2**20:.1f} MiB |"
        )
    data = csv_bytes(args.import_rows)
    started = time.perf_counter()
    result = import_cells(io.BytesIO(data), MemoryStationStore(), NOW, out=None)
    elapsed = time.perf_counter() - started
    print(
        f"| import into memory store | {args.import_rows:,} | {result.imported:,} | {elapsed:.1f} s | "
        f"{args.import_rows / elapsed:,.0f} rows/s | — |"
    )
    for line in moto_runs(args.moto_cells, args.moto_import_rows):
        print(line)
    print(f"max RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
