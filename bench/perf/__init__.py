"""One runner for every benchmark: `make bench` (default sizes) and `make bench-large`.

Run: `python -m bench.perf [--profile default|large|tiny] [--no-docs] [--skip http,accuracy,…]`.
Collects the locate engine, local-stack HTTP, aggregation, export, cold-import, package-size and
accuracy numbers, stores them as bench/results/<profile>-<UTC time>.json, compares them with the
previous stored run of the same profile and regenerates the marked region of docs/benchmarks.md
plus the plots under docs/benchmarks/.
"""
