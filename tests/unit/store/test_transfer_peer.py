"""The HTTP side of the transfer sender: the peer's URL and its error envelopes."""

from __future__ import annotations

import pytest
from openloc.store.transfer_peer import HttpTransferPeer, TransferRejected, transfer_url


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://b.example", "https://b.example/v1/transfer?key=k+1"),
        ("https://b.example/", "https://b.example/v1/transfer?key=k+1"),
        ("http://127.0.0.1:8001/v1/transfer", "http://127.0.0.1:8001/v1/transfer?key=k+1"),
        ("https://b.example/openloc/", "https://b.example/openloc/v1/transfer?key=k+1"),
    ],
)
def test_transfer_url(base: str, expected: str) -> None:
    assert transfer_url(base, "k 1") == expected


@pytest.mark.parametrize("base", ["b.example", "ftp://b.example", "https://", ""])
def test_transfer_url_needs_http(base: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        transfer_url(base, "k")


def test_refusal_names_the_envelopes_reason_or_the_raw_answer() -> None:
    class Peer(HttpTransferPeer):
        answer = (400, b"", None)

        def _post(self, body: bytes) -> tuple[int, bytes, str | None]:
            return self.answer

    peer = Peer("https://b.example", "k")
    peer.answer = (
        400,
        b'{"error": {"errors": [{"domain": "global", "reason": "invalidItems", "message": "x"}], '
        b'"code": 400, "message": "Invalid transfer batch: cells.0.lat: too big"}}',
        None,
    )
    with pytest.raises(
        TransferRejected, match=r"400 invalidItems: Invalid transfer batch: cells\.0\.lat"
    ) as error:
        peer.send("b-1", b"")
    assert error.value.status == 400
    peer.answer = (404, b"<html>no such page</html>", None)
    with pytest.raises(TransferRejected, match="404: <html>no such page"):
        peer.send("b-1", b"")
