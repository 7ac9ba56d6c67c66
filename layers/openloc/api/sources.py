"""Who submitted a report, as far as independent evidence goes: its *source* tag.

The aggregator weighs evidence against established stations, and budgets new stations, by
distinct sources (`aggregate.corroboration`, `ingest.admission`, docs/abuse.md). A source is the
submitter's address group — an IPv4 /24 or an IPv6 /48, the blocks one subscriber or one hosting
customer typically holds — together with the digest of its API key, if any (so the users of one
shared app key are still told apart by their networks).

The tag is a keyed BLAKE2b hash of both (key `IP_HASH_KEY`), truncated to 64 bits: it tells
sources apart without naming them, and without the deployment's secret it cannot be linked to
an address. It travels in the queued reports and the archive (docs/privacy.md); the address
itself is never stored.
"""

from __future__ import annotations

import hashlib
import ipaddress

IPV4_SOURCE_PREFIX = 24
IPV6_SOURCE_PREFIX = 48
TAG_BYTES = 8


def source_group(ip: str) -> str:
    """The address group of a source: the /24 of an IPv4 address, the /48 of an IPv6 address."""
    address = ipaddress.ip_address(ip)
    prefix = IPV4_SOURCE_PREFIX if address.version == 4 else IPV6_SOURCE_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def submitter_tag(ip: str | None, key_digest: str | None, hash_key: str) -> str | None:
    """The source tag of a submission (None when neither its address nor a key is known)."""
    if ip is None and key_digest is None:
        return None
    group = source_group(ip) if ip is not None else "-"
    text = f"{key_digest or '-'}|{group}".encode()
    return hashlib.blake2b(text, key=hash_key.encode()[:64], digest_size=TAG_BYTES).hexdigest()
