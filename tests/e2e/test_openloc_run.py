"""`openloc run` as a user starts it: prints its URL, answers the README's curl, and Ctrl-C
stops the whole process tree (no Valkey server left behind)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = {"wifiAccessPoints": [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to look for orphan processes")
def test_run_answers_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = _free_port()
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "openloc.cli", "run", "--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        banner = ""
        while "OpenLoc is running" not in banner:
            line = process.stdout.readline()
            assert line or process.poll() is None, f"openloc run exited early:\n{banner}"
            banner += line
            assert time.monotonic() < deadline, banner
        assert f"http://127.0.0.1:{port}" in banner
        response = httpx.post(f"http://127.0.0.1:{port}/v1/geolocate?key=test", json=EXAMPLE, timeout=20)
        assert response.status_code == 200
        assert set(response.json()) == {"location", "accuracy"}
        assert _processes_mentioning(str(data_dir)), "the Valkey server should run with the data dir"
        if (ROOT / "node_modules" / "leaflet").is_dir():  # the website needs the npm libraries
            index = httpx.get(f"http://127.0.0.1:{port}/", timeout=20)
            assert index.status_code == 200 and "Coverage map" in index.text
            tiles = httpx.get(f"http://127.0.0.1:{port}/tiles/coverage.pmtiles", timeout=20)
            assert tiles.status_code == 200 and tiles.content.startswith(b"PMTiles")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("openloc run did not stop within 45 s of Ctrl-C")
    assert process.returncode == 0
    leftovers = [pid for pid in _processes_mentioning(str(data_dir)) if pid != os.getpid()]
    assert leftovers == [], f"processes left behind: {leftovers}"
    assert (data_dir / "dynamodb" / "openloc-api-keys.json").exists()
