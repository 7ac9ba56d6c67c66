"""Memory of the process key cache under a flood of unknown keys (docs/security.md).

Run: `.venv/bin/python bench/key_cache.py [--keys N]` (default 1 000 000). Looks up N distinct
unknown keys (`guess-0000000`, …) through `openloc.api.keys.KeyChecker` on in-memory stores (no
Redis, no unknown-key limit: the worst case for the process cache), once with the default cache
size (`API_KEY_CACHE_SIZE`) and once with a size larger than N, which is what the cache was before
it had a bound. Prints the entries kept and the memory they hold (tracemalloc), as Markdown.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc

from openloc.api.keys import KeyCachePolicy, KeyChecker
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.counters import UnavailableCounters
from openloc.store.key_cache import RedisKeyCache


def flood(keys: int, size: int) -> tuple[int, float]:
    """Entries kept and MiB held by the process cache after `keys` distinct unknown keys."""
    gc.collect()
    tracemalloc.start()
    checker = KeyChecker(
        MemoryApiKeyStore(),
        RedisKeyCache(lambda: None),
        UnavailableCounters(),
        KeyCachePolicy(size=size, unknown_per_minute=0),
        lambda: "bench",
    )
    before = tracemalloc.get_traced_memory()[0]
    for i in range(keys):
        checker.lookup(f"guess-{i:07d}")
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return len(checker.local), held / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    args = parser.parse_args()
    size = Settings().api_key_cache_size
    print(f"| process cache after {args.keys:,} unknown keys | entries | MiB |")
    print("|---|---|---|")
    for name, bound in (
        (f"bounded (API_KEY_CACHE_SIZE={size:,})", size),
        ("unbounded (before)", args.keys + 1),
    ):
        entries, mib = flood(args.keys, bound)
        print(f"| {name} | {entries:,} | {mib:.1f} |")


if __name__ == "__main__":
    main()
