"""`openloc keys`: create, show and revoke API keys in the configured api_keys table.

Keys are random UUID-like strings (what Ichnaea issued; they match the contract's key pattern).
A key's permissions and daily limits (locate requests, submitted observations) are stored with
it; the locate/submit functions cache a key for API_KEY_CACHE_SECONDS, so a revoked key stops
working within that time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import uuid

from openloc.model.records import DEFAULT_MAXSUBMIT, ApiKeyRecord
from openloc.store.api_keys import ApiKeyStore


def new_key() -> str:
    return str(uuid.uuid4())


def create_key(store: ApiKeyStore, args: argparse.Namespace) -> ApiKeyRecord:
    from openloc.api.keys import KEY_PATTERN

    key = args.key or new_key()
    if not KEY_PATTERN.fullmatch(key):
        raise SystemExit(f"invalid key {key!r}: 1-40 characters of A-Z, a-z, 0-9 and '-'")
    if store.get(key) is not None:
        raise SystemExit(f"key {key} exists already")
    record = ApiKeyRecord(
        key=key,
        shortname=args.name,
        maxreq=args.maxreq,
        maxsubmit=args.maxsubmit,
        allow_locate=not args.no_locate,
        allow_region=not args.no_region,
        allow_submit=not args.no_submit,
        allow_transfer=args.allow_transfer,
    )
    store.put(record)
    return record


def _store() -> ApiKeyStore:
    from openloc.settings import get_settings
    from openloc.store.api_keys import DynamoApiKeyStore

    return DynamoApiKeyStore.from_settings(get_settings())


def _print(record: ApiKeyRecord) -> None:
    print(json.dumps(dataclasses.asdict(record), indent=2))


def _create(args: argparse.Namespace) -> int:
    _print(create_key(_store(), args))
    return 0


def _show(args: argparse.Namespace) -> int:
    record = _store().get(args.key)
    if record is None:
        print(f"no such key: {args.key}")
        return 1
    _print(record)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    store = _store()
    if store.get(args.key) is None:
        print(f"no such key: {args.key}")
        return 1
    store.delete(args.key)
    print(f"revoked {args.key} (cached copies expire within API_KEY_CACHE_SECONDS)")
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="manage API keys in API_KEYS_TABLE (AWS_ENDPOINT_URL for local)")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key and print it")
    create.add_argument("--key", help="the key itself (default: a random UUID)")
    create.add_argument("--name", help="short name of the client or owner")
    create.add_argument("--maxreq", type=int, default=0, help="requests per day and endpoint (0 = unlimited)")
    create.add_argument(
        "--maxsubmit",
        type=int,
        default=DEFAULT_MAXSUBMIT,
        help=f"submitted observations per UTC day (default {DEFAULT_MAXSUBMIT}; 0 = unlimited)",
    )
    create.add_argument("--allow-transfer", action="store_true", help="may POST /v1/transfer")
    create.add_argument("--no-locate", action="store_true", help="may not use /v1/geolocate")
    create.add_argument("--no-region", action="store_true", help="may not use /v1/region")
    create.add_argument("--no-submit", action="store_true", help="may not submit observations")
    create.set_defaults(func=_create)
    show = actions.add_parser("show", help="print a key's settings")
    show.add_argument("key")
    show.set_defaults(func=_show)
    revoke = actions.add_parser("revoke", help="delete a key")
    revoke.add_argument("key")
    revoke.set_defaults(func=_revoke)
