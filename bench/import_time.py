"""Cold-import time of each Lambda handler module, measured in fresh interpreters.

Run: `.venv/bin/python bench/import_time.py [--runs N]`. Prints a Markdown table (median and
max of N runs, milliseconds) and the five most expensive imports of the locate handler from
`python -X importtime`. This is the local proxy for a Lambda cold start without SnapStart.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = ("locate", "submit", "aggregate", "export")
ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
PROBE = (
    "import sys, time; sys.path.insert(0, {path!r}); t = time.perf_counter(); import handler; "
    "print((time.perf_counter() - t) * 1000)"
)


def measure(name: str, runs: int) -> list[float]:
    path = str(ROOT / "functions" / name)
    env = {**os.environ, **ENV}
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", PROBE.format(path=path)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(runs)
    ]


def top_imports(name: str, count: int = 5) -> list[tuple[str, int]]:
    path = str(ROOT / "functions" / name)
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            f"import sys; sys.path.insert(0, {path!r}); import handler",
        ],
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    by_package: dict[str, int] = {}
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        if package not in {"handler", "openloc"}:
            by_package[package] = max(by_package.get(package, 0), int(parts[1]) // 1000)
    return sorted(by_package.items(), key=lambda row: -row[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| handler | median ms | max ms |\n|---|---|---|")
    for name in HANDLERS:
        times = measure(name, args.runs)
        print(f"| {name} | {statistics.median(times):.0f} | {max(times):.0f} |")
    print("\nMost expensive third-party packages in the locate handler (cumulative ms):\n")
    for module, ms in top_imports("locate"):
        print(f"- `{module}`: {ms}")


if __name__ == "__main__":
    main()
