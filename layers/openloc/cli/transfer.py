"""`openloc transfer --to URL --key K`: send this instance's stations and cell areas to a peer's
`POST /v1/transfer` (the sending side of instance sync, `ingest.transfer_send`).

Reads the tables the environment names (`AWS_ENDPOINT_URL`, `STATIONS_TABLE`, `CELL_AREAS_TABLE`).
The checkpoint and outbox of one peer is a local SQLite file (`--state`, default
`~/.openloc/transfer/<peer host>.sqlite`): run the command again to send what changed since the
last complete run, or to finish a run that was interrupted.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

_SENDER = re.compile(r"[-_.A-Za-z0-9]{1,64}")
EXIT_REJECTED = 2
EXIT_UNAVAILABLE = 1


def default_state(url: str) -> Path:
    netloc = urllib.parse.urlsplit(url).netloc or "peer"
    return Path.home() / ".openloc" / "transfer" / (re.sub(r"[^A-Za-z0-9.-]", "_", netloc) + ".sqlite")


def _advice(status: int) -> str:
    if status in (400, 403):
        return (
            " Check the key: the peer must have it with the transfer permission "
            "(`openloc keys create --allow-transfer` on the peer)."
        )
    return ""


def _transfer(args: argparse.Namespace) -> int:
    from openloc.ingest.progress import ProgressLine
    from openloc.ingest.transfer_send import send_transfer
    from openloc.settings import get_settings
    from openloc.store.stations import DynamoStationStore
    from openloc.store.transfer_peer import HttpTransferPeer, PeerUnavailable, TransferRejected
    from openloc.store.transfer_state import TransferState, TransferStateError

    if not 1 <= args.batch_size <= 5000:
        print("openloc transfer: --batch-size must be 1-5000", file=sys.stderr)
        return 2
    if args.sender and not _SENDER.fullmatch(args.sender):
        print("openloc transfer: --sender must be 1-64 of A-Z a-z 0-9 - _ .", file=sys.stderr)
        return 2
    try:
        peer = HttpTransferPeer(args.to, args.key)
    except ValueError as error:
        print(f"openloc transfer: --to: {error}", file=sys.stderr)
        return 2
    settings = get_settings()
    source = f"{settings.aws_region}/{settings.stations_table}+{settings.cell_areas_table}"
    state_path = Path(args.state) if args.state else default_state(args.to)
    try:
        state = TransferState(state_path)
        sender = state.bind(peer.url.split("?")[0], source, args.sender or f"openloc-{secrets.token_hex(4)}")
    except TransferStateError as error:
        print(f"openloc transfer: {error}", file=sys.stderr)
        return 2
    if args.full and state.run is not None and state.run.phase == "sending":
        print("note: finishing the interrupted run first; run again for --full", file=sys.stderr)
    progress = ProgressLine(None if args.quiet else sys.stderr, None, "items")
    try:
        result = send_transfer(
            DynamoStationStore.from_settings(settings),
            state,
            peer,
            sender,
            datetime.now(UTC),
            full=args.full,
            batch_size=args.batch_size,
            progress=lambda sent, total, batches: progress.update(sent, f"of {total:,}, {batches:,} batches"),
        )
    except TransferRejected as error:
        progress.end()
        print(
            f"openloc transfer: stopped: {str(error).rstrip('.')}.{_advice(error.status)} Nothing more was "
            f"sent; the batches acknowledged so far are kept in {state_path}, run again to resume.",
            file=sys.stderr,
        )
        return EXIT_REJECTED
    except PeerUnavailable as error:
        progress.end()
        print(f"openloc transfer: stopped: {error}; run again to resume from {state_path}.", file=sys.stderr)
        return EXIT_UNAVAILABLE
    finally:
        state.close()
    progress.finish(result.items, f"{result.batches:,} batches")
    start = f"{result.since:%Y-%m-%dT%H:%M:%SZ}" if result.since else "the beginning"
    assert result.until is not None
    window = f"[{start}, {result.until:%Y-%m-%dT%H:%M:%SZ})"
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(result.kinds.items()))
    kinds = kinds or ("the interrupted run's items" if result.resumed else "nothing new")
    print(
        f"{'resumed and ' if result.resumed else ''}sent {result.items} items in {result.batches} batches "
        f"({result.already_sent} sent before this run, {peer.retries} retries) from "
        f"{settings.stations_table} to {args.to} as {sender}: modified in {window}: {kinds}; "
        f"{result.skipped} not sendable (held, blocked or invalid); state {state_path}"
    )
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    transfer = commands.add_parser(
        "transfer",
        help="send the stations and cell areas of the configured tables (AWS_ENDPOINT_URL, STATIONS_TABLE, "
        "CELL_AREAS_TABLE) that changed since the last run to a peer's /v1/transfer",
    )
    transfer.add_argument("--to", required=True, metavar="URL", help="the peer's base URL (https://…)")
    transfer.add_argument(
        "--key", required=True, help="an API key of the peer's with the transfer permission"
    )
    transfer.add_argument(
        "--state", default="", metavar="FILE", help="checkpoint and outbox of this peer (default "
        "~/.openloc/transfer/<peer host>.sqlite)",
    )  # fmt: skip
    transfer.add_argument(
        "--sender",
        default="",
        help="prefix of the batch ids (default: a random name, kept in the state file)",
    )
    transfer.add_argument("--full", action="store_true", help="send every row, not only what changed")
    transfer.add_argument(
        "--batch-size", type=int, default=500, help="items per batch (default 500, the peer's default "
        "TRANSFER_MAX_ITEMS)",
    )  # fmt: skip
    transfer.add_argument("--quiet", action="store_true", help="no progress line")
    transfer.set_defaults(func=_transfer)
