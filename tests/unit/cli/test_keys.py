"""`openloc keys`: creating keys with permissions, showing and revoking them."""

from __future__ import annotations

import argparse

import pytest
from openloc.api.keys import KEY_PATTERN
from openloc.cli.keys import add_parser, create_key
from openloc.model.records import DEFAULT_MAXSUBMIT
from openloc.store.api_keys import MemoryApiKeyStore


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["keys", *argv])


def test_created_key_is_random_valid_and_stored_with_defaults() -> None:
    store = MemoryApiKeyStore()
    first = create_key(store, parse("create", "--name", "microg"))
    second = create_key(store, parse("create"))
    assert first.key != second.key
    assert KEY_PATTERN.fullmatch(first.key)
    stored = store.get(first.key)
    assert stored == first
    assert (stored.shortname, stored.maxreq, stored.allow_locate, stored.allow_submit) == (
        "microg",
        0,
        True,
        True,
    )
    assert stored.maxsubmit == DEFAULT_MAXSUBMIT > 0  # a new key's submissions are budgeted
    assert not stored.allow_transfer


def test_permissions_and_limit_from_flags() -> None:
    store = MemoryApiKeyStore()
    record = create_key(
        store,
        parse(
            "create",
            "--key",
            "partner-1",
            "--maxreq",
            "5000",
            "--maxsubmit",
            "0",
            "--allow-transfer",
            "--no-submit",
        ),
    )
    assert (record.key, record.maxreq, record.maxsubmit, record.allow_transfer, record.allow_submit) == (
        "partner-1",
        5000,
        0,
        True,
        False,
    )


@pytest.mark.parametrize("key", ["bad key", "x" * 41, "ümlaut"])
def test_invalid_explicit_key_is_refused(key: str) -> None:
    with pytest.raises(SystemExit, match="invalid key"):
        create_key(MemoryApiKeyStore(), parse("create", "--key", key))


def test_existing_key_is_not_overwritten() -> None:
    store = MemoryApiKeyStore()
    create_key(store, parse("create", "--key", "k1", "--maxreq", "10"))
    with pytest.raises(SystemExit, match="exists"):
        create_key(store, parse("create", "--key", "k1"))
    assert store.get("k1") is not None and store.get("k1").maxreq == 10  # type: ignore[union-attr]


def test_delete_removes_the_key() -> None:
    store = MemoryApiKeyStore()
    create_key(store, parse("create", "--key", "gone"))
    store.delete("gone")
    assert store.get("gone") is None
