"""The accuracy bench and the runner work end to end on a tiny world (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.accuracy.report import goal_rows
from bench.accuracy.run import ENGINES, run
from bench.perf.docs import END, START
from bench.perf.runner import main
from bench.world import TINY


@pytest.fixture(scope="module")
def tiny_accuracy() -> dict[str, object]:
    return run(TINY)


def test_accuracy_reports_every_engine_and_kind(tiny_accuracy: dict[str, object]) -> None:
    engines = tiny_accuracy["engines"]
    assert isinstance(engines, dict) and set(engines) == set(ENGINES)
    for name, by_kind in engines.items():
        assert by_kind["single_ap"]["answered"] == 0  # privacy rule holds for every locator
        wifi = by_kind["wifi"]
        assert wifi["asked"] == TINY.queries_per_kind and wifi["answered"] > 0
        assert wifi["median_m"] <= wifi["p90_m"] <= wifi["p99_m"]
        assert 0 <= wifi["coverage"] <= 1
        if name not in ("oracle", "before"):  # the station-only engines have no GeoIP
            assert by_kind["ip"]["answer_rate"] == 1.0  # every IP of the plan is in its GeoIP file
    # the oracle knows where every access point is: it is never worse than OpenLoc on Wi-Fi
    assert engines["oracle"]["wifi"]["median_m"] <= engines["openloc"]["wifi"]["median_m"]
    world = tiny_accuracy["world"]
    assert isinstance(world, dict) and world["observations"] > 0 and world["stations"]["wifi"] > 0


def test_runner_stores_results_compares_and_rewrites_only_its_region(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "benchmarks.md").write_text("# Benchmarks\n\nIntro.\n\n## Hand-written section\n\nKept.\n")
    common = ["--profile", "tiny", "--results-dir", str(tmp_path / "r"), "--docs-dir", str(docs)]
    main([*common, "--skip", "http,imports,aggregation,packages"])
    main(
        [*common, "--skip", "locate,http,imports,aggregation,packages,accuracy,request_cost"]
    )  # export again
    first, second = (json.loads(p.read_text()) for p in sorted((tmp_path / "r").glob("tiny-*.json")))
    tiny = first["accuracy"]["profiles"]["tiny"]["engines"]
    assert tiny["openloc"]["wifi"]["asked"] == TINY.queries_per_kind
    assert {row["kind"] for row in goal_rows(tiny)} >= {"wifi", "cell"}
    by_api = first["cost"]["locate_by_api"]
    assert by_api["http-api"]["total"] - by_api["function-url"]["total"] == pytest.approx(1.00)
    reads = first["accuracy"]["reads"]  # strongest first reads less than all at once, on the same queries
    assert (
        reads["staged"]["keys_per_query"]["wifi_cell"] < reads["all_at_once"]["keys_per_query"]["wifi_cell"]
    )
    costs = first["request_cost"]["rows"]  # one body of each kind, each answered as expected
    assert {r["kind"] for r in costs} == {"largest", "pathological", "bomb"}
    assert all(r["status"] == r["expected"] for r in costs)
    compared = {row["metric"]: row for row in second["comparison"]}
    assert second["previous"] is not None and compared["export rows/s"]["previous"] is not None
    text = (docs / "benchmarks.md").read_text()
    assert text.count(START) == 1 and text.count(END) == 1  # the second run replaced the region
    assert "## Hand-written section\n\nKept." in text and text.index(START) < text.index("## Hand-written")
    for plot in ("error_cdf.png", "calibration.png", "throughput.png", "latency.png"):
        assert (docs / "benchmarks" / plot).stat().st_size > 0


def test_the_report_says_when_the_measured_tree_differs_from_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from bench.perf import runner

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "engine.py").write_text("A = 1\n")
    git("add", "engine.py")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "engine")
    monkeypatch.setattr(runner, "ROOT", tmp_path)
    clean = runner.git_commit()
    assert clean and "uncommitted" not in clean
    (tmp_path / "notes.txt").write_text("untracked files do not count\n")
    assert runner.git_commit() == clean
    (tmp_path / "engine.py").write_text("A = 2\n")
    assert runner.git_commit() == f"{clean} + uncommitted changes"
