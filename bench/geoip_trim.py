"""What the compact GeoIP files lose against the databases they were built from.

Run after `make package`: `.venv/bin/python bench/geoip_trim.py [--samples N]`. Compares the
answers of `openloc.locate.geoip.GeoIpDatabase` over the source `.mmdb` files (GEOIP_SOURCE or
the DB-IP files npm installed) and over the `.olgeo` files in build/geoip on the same addresses:

- IPv4: uniformly random public addresses (the whole space the service can be asked about);
- IPv6: a random address inside uniformly chosen ranges of the compact file (random IPv6
  addresses would almost all be unallocated and prove nothing). The compact file keys IPv6 by
  /64: inside a /64 the source splits into finer networks, the compact answer is the one of the
  network at the /64's start, which can be another place.

Reported per version: addresses answered by both, by only one, country and city-level agreement,
and how far apart the two positions are (p50, p99, max; the compact file rounds to 0.01°).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
from pathlib import Path
from typing import Any

from openloc.geo.distance import haversine_m
from openloc.locate.geoip import GeoIpAnswer, GeoIpDatabase, public_address
from openloc.locate.geoip_compact import CompactReader

from bench.accuracy.metrics import quantile

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT / "node_modules" / "@ip-location-db" / "dbip-city-mmdb"
COMPACT_DIR = ROOT / "build" / "geoip" / "geoip"


def _sources() -> list[str]:
    source = Path(os.environ.get("GEOIP_SOURCE") or DEFAULT_SOURCE)
    files = [source] if source.is_file() else sorted(source.glob("*.mmdb")) if source.is_dir() else []
    return [str(f) for f in files]


def _ipv4_samples(rng: random.Random, count: int) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        address = str(ipaddress.IPv4Address(rng.getrandbits(32)))
        if public_address(address) is not None:
            out.append(address)
    return out


def _ipv6_samples(rng: random.Random, count: int, compact: Path) -> list[str]:
    reader = CompactReader(compact)
    starts = reader.starts()  # pick a range of the compact file, then an address inside it
    reader.close()
    out = []
    for _ in range(count):
        index = rng.randrange(len(starts))
        end = starts[index + 1] if index + 1 < len(starts) else starts[index] + 1
        prefix = rng.randrange(starts[index], max(end, starts[index] + 1))
        out.append(str(ipaddress.IPv6Address(prefix << 64 | rng.getrandbits(64))))
    return out


def _compare(addresses: list[str], full: GeoIpDatabase, trimmed: GeoIpDatabase) -> dict[str, Any]:
    both = only_full = only_trimmed = same_country = same_level = 0
    distances: list[float] = []
    for address in addresses:
        a: GeoIpAnswer | None = full.lookup(address)
        b: GeoIpAnswer | None = trimmed.lookup(address)
        if a is None and b is None:
            continue
        if a is None:
            only_trimmed += 1
            continue
        if b is None:
            only_full += 1
            continue
        both += 1
        same_country += a.country_code == b.country_code
        same_level += a.city == b.city and a.accuracy_m == b.accuracy_m
        distances.append(haversine_m(a.lat, a.lon, b.lat, b.lon))
    return {
        "sampled": len(addresses),
        "answered_by_both": both,
        "only_source": only_full,
        "only_compact": only_trimmed,
        "same_country": same_country / both if both else None,
        "same_accuracy": same_level / both if both else None,
        "distance_p50_m": quantile(distances, 0.5) if distances else None,
        "distance_p99_m": quantile(distances, 0.99) if distances else None,
        "distance_max_m": max(distances) if distances else None,
        # further apart than the 25 km a city answer promises: a different place, not rounding
        "moved_over_25km": sum(d > 25_000 for d in distances),
    }


def measure(samples: int = 20_000, seed: int = 1) -> dict[str, Any]:
    """The comparison, or {"skipped": reason} without build/geoip or the source files."""
    sources = _sources()
    compact = {p.name: p for p in COMPACT_DIR.glob("*.olgeo")} if COMPACT_DIR.is_dir() else {}
    if not sources or not compact:
        return {"skipped": "run `make package` (build/geoip) with the source mmdb files installed"}
    full = GeoIpDatabase(sources)
    trimmed = GeoIpDatabase([str(p) for p in sorted(compact.values())])
    rng = random.Random(seed)
    out: dict[str, Any] = {
        "source_mb": sum(Path(s).stat().st_size for s in sources) / 1e6,
        "compact_mb": sum(p.stat().st_size for p in compact.values()) / 1e6,
        "ipv4": _compare(_ipv4_samples(rng, samples), full, trimmed),
    }
    if "ipv6.olgeo" in compact:
        out["ipv6"] = _compare(_ipv6_samples(rng, samples, compact["ipv6.olgeo"]), full, trimmed)
    full.close()
    trimmed.close()
    return out


def table(result: dict[str, Any]) -> list[str]:
    if "skipped" in result:
        return [f"GeoIP trimming: not measured ({result['skipped']})."]
    lines = [
        f"GeoIP: the source databases ({result['source_mb']:.1f} MB) against the compact files "
        f"({result['compact_mb']:.1f} MB) on the same addresses (`bench/geoip_trim.py`):",
        "",
        "| | sampled | answered by both | only the source | only compact | same country | same accuracy | distance p50 / p99 / max m | > 25 km apart |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for version in ("ipv4", "ipv6"):
        row = result.get(version)
        if not row:
            continue
        distance = (
            f"{row['distance_p50_m']:.0f} / {row['distance_p99_m']:.0f} / {row['distance_max_m']:.0f}"
            if row["distance_p50_m"] is not None
            else "–"
        )
        same_country = f"{row['same_country']:.2%}" if row["same_country"] is not None else "–"
        same_accuracy = f"{row['same_accuracy']:.2%}" if row["same_accuracy"] is not None else "–"
        lines.append(
            f"| {version} | {row['sampled']:,} | {row['answered_by_both']:,} | {row['only_source']:,} | "
            f"{row['only_compact']:,} | {same_country} | {same_accuracy} | {distance} | {row['moved_over_25km']:,} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.samples)
    print(json.dumps(result, indent=1) if args.json else "\n".join(table(result)))


if __name__ == "__main__":
    main()
