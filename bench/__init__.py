"""Benchmarks: scripts (`python bench/<name>.py`) and packages (`python -m bench.<name>`)."""
