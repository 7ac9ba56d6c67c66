"""The sharded import (byte ranges of the uploaded CSV) and the sharded replay (archive objects)
give the single-process results."""

from __future__ import annotations

import io
import itertools
import random
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from openloc.ingest.cell_import import import_cells, line_range
from openloc.ingest.pipeline import PipelineStores
from openloc.ingest.replay import replay
from openloc.jobs import bulk_import
from openloc.jobs import replay as replay_job
from openloc.jobs.executor import direct, run_local
from openloc.jobs.stores import JobStores
from openloc.model.report import archive_record
from openloc.publish.cell_export import HEADER
from openloc.settings import Settings
from openloc.store.stations import MemoryStationStore

from tests.unit.small_world import START, build_world, report_at

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


def cell_csv(seed: int, rows: int, header: bool) -> bytes:
    rng = random.Random(seed)
    lines = [",".join(HEADER)] if header else []
    for index in range(rows):
        radio = rng.choice(["LTE", "GSM", "UMTS", "NR", "CDMA"])  # CDMA rows are invalid
        lat = rng.uniform(47.5, 54.5) if rng.random() > 0.03 else 123.0  # a few bad latitudes
        lines.append(
            f"{radio},262,{rng.choice([1, 2, 3])},{rng.randrange(100, 110)},{1000 + index},,"
            f"{rng.uniform(6.0, 15.0):.6f},{lat:.6f},{rng.randrange(100, 5000)},{rng.randrange(1, 60)},1,"
            f"{1_600_000_000 + index},{1_700_000_000 + index},"
        )
    return ("\r\n" if seed % 2 else "\n").join(lines).encode() + (b"\n" if seed % 3 else b"")


def test_a_shard_owns_the_lines_that_start_in_its_range() -> None:
    data = b"aaa\nbbbb\ncc\nd\n"
    cuts = [0, 2, 4, 5, 9, 12, len(data)]
    owned = []
    for start, end in itertools.pairwise(cuts):
        chunk = data[max(start - 1, 0) : end]
        rest = iter([data[end : end + 2], data[end + 2 :], b""])
        owned.append(line_range(chunk, start == 0, lambda rest=rest: next(rest, b"")))  # type: ignore[misc]
    assert b"".join(owned) == data
    assert owned == [b"aaa\n", b"", b"bbbb\n", b"", b"cc\n", b"d\n"]


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 1000), header=st.booleans(), shard_bytes=st.integers(1024, 6000))
def test_sharded_import_writes_what_the_single_import_writes(
    seed: int, header: bool, shard_bytes: int
) -> None:
    data = cell_csv(seed, 300, header)
    single = MemoryStationStore()
    expected = import_cells(io.BytesIO(data), single, NOW, out=None)
    stores = JobStores.in_memory(Settings(import_shard_bytes=shard_bytes))
    stores.state.put(f"{bulk_import.UPLOADS_PREFIX}cells.csv", data, "text/csv", "no-store")
    run = run_local(
        bulk_import.SHARDED,
        stores.state,
        direct(stores, bulk_import.SHARDED),
        {"time": NOW.isoformat(), "params": {"key": f"{bulk_import.UPLOADS_PREFIX}cells.csv"}},
    )
    assert run.stages[0].shards == max(
        1, -(-(len(data) - (data.index(b"\n") + 1 if header else 0)) // shard_bytes)
    )
    summary = run.summary
    assert (summary["rows"], summary["imported"]) == (expected.rows, expected.imported)
    assert summary["invalid"] == dict(expected.invalid)
    assert (summary["areas_updated"], summary["areas_deleted"]) == (
        expected.areas_updated,
        expected.areas_deleted,
    )
    sharded = stores.stations
    assert isinstance(sharded, MemoryStationStore)
    assert sharded.stations == single.stations and sharded.areas == single.areas


def _archive(stores: PipelineStores, messages: int) -> None:
    world = build_world(seed=11)
    rng = random.Random(5)
    for index in range(messages):
        when = START + timedelta(hours=index)
        reports = [
            report_at(world, 52.52 + rng.uniform(-0.004, 0.004), 13.41 + rng.uniform(-0.006, 0.006), when)
            for _ in range(4)
        ]
        stores.archive.put([archive_record(r) for r in reports if r.usable], when, f"message-{index:03d}")


def test_sharded_replay_aggregates_like_the_single_replay_and_never_twice() -> None:
    source = PipelineStores.in_memory()
    _archive(source, 30)
    single = replace(PipelineStores.in_memory(), archive=source.archive)
    expected = replay(
        source.archive, "observations/", single, now=lambda: NOW, out=io.StringIO(), as_messages=True
    )
    job_input = {"time": NOW.isoformat(), "params": {"prefix": "observations/"}}
    for threads in (1, 4):
        pipeline = replace(PipelineStores.in_memory(), archive=source.archive)
        stores = JobStores.in_memory(Settings(replay_shard_objects=4), pipeline=pipeline)
        run = run_local(
            replay_job.SHARDED, stores.state, direct(stores, replay_job.SHARDED), job_input, threads
        )
        assert run.stages[0].shards == 8
        if threads == 1:
            assert run.summary == asdict(expected)
        else:
            # The same objects and reports. The writes may differ by a few: whether a batch finds a
            # station established (rate control) or already judged by its loudness (from
            # `JUDGED_SAMPLES` samples on: a loud observation joins a challenge instead of the
            # position) depends on the order, and so does whether the batch changes the row.
            written = run.summary.pop("stations_written")
            wanted_summary = asdict(expected)
            assert abs(written - wanted_summary.pop("stations_written")) <= 0.02 * written
            assert run.summary == wanted_summary
        # One shard at a time aggregates the messages in the single replay's order: the same
        # stations. Concurrent shards aggregate them in another order, as concurrent aggregators
        # do: the same stations, positions within the order's effect, and samples within it too —
        # a well-established station stops counting agreeing batches (Change.SETTLED, rate
        # control), and with GPS glitches dropped the batches differ in size, so the batch that
        # crosses the threshold, and the count it leaves, depends on the order (by < one batch);
        # so does whether a loud batch finds the station judged (a challenge, no samples added).
        found, wanted = _stations(pipeline), _stations(single)
        assert found.keys() == wanted.keys()
        for key, (samples, lat, lon) in found.items():
            if threads == 1:
                assert samples == wanted[key][0], key
            else:
                assert abs(samples - wanted[key][0]) <= 4, key  # 4 reports per message
            tolerance = 1e-9 if threads == 1 else 0.01
            assert abs(lat - wanted[key][1]) <= tolerance and abs(lon - wanted[key][2]) <= tolerance
        again = run_local(
            replay_job.SHARDED, stores.state, direct(stores, replay_job.SHARDED), job_input, threads
        )
        assert again.summary["skipped"] == expected.objects and again.summary["reports"] == 0
        assert _stations(pipeline) == found  # nothing counted twice


def _stations(stores: PipelineStores) -> dict[str, tuple[int, float, float]]:
    stations = stores.stations.stations  # type: ignore[attr-defined]
    return {key: (record.samples, record.lat or 0.0, record.lon or 0.0) for key, record in stations.items()}
