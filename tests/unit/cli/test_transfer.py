"""`openloc transfer`: what it refuses before sending anything (the sending itself:
tests/unit/ingest/test_transfer_send.py in process, tests/integration/test_open_data_stack.py over
HTTP against the local stack)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openloc.cli import main
from openloc.cli.transfer import default_state
from openloc.settings import Settings
from openloc.store.transfer_state import TransferState


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--to", "peer.example"], "--to: not an http(s) URL"),
        (["--to", "https://peer.example", "--batch-size", "0"], "--batch-size must be 1-5000"),
        (["--to", "https://peer.example", "--sender", "a b"], "--sender must be"),
    ],
)
def test_bad_arguments(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["transfer", "--key", "k", "--state", str(tmp_path / "s.sqlite"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_state_of_another_peer_is_refused(
    moto_tables: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "s.sqlite"
    TransferState(state).bind("https://a.example/v1/transfer", "us-east-1/x+y", "me")
    assert main(["transfer", "--to", "https://b.example", "--key", "k", "--state", str(state)]) == 2
    assert "use another --state file" in capsys.readouterr().err


def test_default_state_is_per_peer_host() -> None:
    assert default_state("https://b.example:8443/x").name == "b.example_8443.sqlite"
    assert default_state("https://b.example").parent == default_state("https://c.example").parent
