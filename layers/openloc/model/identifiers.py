"""Public station identifiers: a versioned hash over a station's MAC and its network name.

Published Wi-Fi and Bluetooth stations never carry their raw MAC. They carry an identifier that
only someone who *sees* the network can compute, because it needs both the MAC and the name the
network broadcasts (Wi-Fi: the SSID; Bluetooth: the beacon's advertised name). Clients send the
same identifier in `/v1/geolocate` instead of raw MACs, and offline packs are keyed by it.

Scheme `v1` (wire form `v1:` + 32 lower-case hex digits):

    SHA-256( b"openloc-station-v1" || 0x00 || kind || 0x00 || mac (6 bytes) || name (UTF-8) )
    truncated to its first 128 bits

- `kind` is `b"wifi"` or `b"blue"`, so a Wi-Fi and a Bluetooth station with the same MAC and
  name do not share an identifier; the label makes the hash useless for any other purpose.
- `mac` is the normalised MAC (`model.keys.normalize_mac`) as its 6 raw bytes.
- `name` is the SSID/beacon name exactly as broadcast (case-sensitive), with surrounding
  whitespace removed; it is the last field, so no separator ambiguity exists. An empty name has no
  identifier (hidden networks and nameless beacons are never published).
- SHA-256 because every client platform has it in its standard library (Java `MessageDigest`,
  Apple CryptoKit, Web Crypto, Python `hashlib`); 128 bits keep the accidental-collision
  probability for 10¹⁰ stations below 10⁻¹⁸ while halving the size of dumps and packs.

Truncation does not slow down brute force; docs/privacy.md discusses what an attacker who knows
an SSID can recover by enumerating MACs. A future scheme gets a new version prefix (`v2:`); the
parser rejects versions it does not know, so clients and servers never confuse schemes.

Pure module: no I/O, no AWS imports.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from openloc.model.keys import normalize_mac
from openloc.model.kinds import MAC_KINDS, StationKind

CURRENT_VERSION = "v1"
V1_LABEL = b"openloc-station-v1"
V1_HEX_DIGITS = 32  # 128 bits
SUPPORTED_VERSIONS = frozenset({CURRENT_VERSION})
_V1_DIGEST = re.compile(r"[0-9a-f]{32}")
_VERSION = re.compile(r"v[0-9]{1,3}")


class HashFormatError(ValueError):
    """A hashed identifier that is malformed or names a scheme this server does not know."""


def clean_name(name: str | None) -> str | None:
    """The name as hashed: surrounding whitespace removed; None for hidden/empty names."""
    if name is None:
        return None
    stripped = name.strip()
    return stripped or None


@lru_cache(maxsize=65_536)  # the aggregator hashes the same (MAC, SSID) for every report that saw it
def station_digest(kind: StationKind, mac: str, name: str) -> str:
    """The v1 digest (32 hex digits) of a normalised 12-hex MAC and a non-empty name."""
    if kind not in MAC_KINDS:
        raise ValueError(f"unknown station kind {kind!r}")
    data = b"".join((V1_LABEL, b"\x00", kind.encode(), b"\x00", bytes.fromhex(mac), name.encode("utf-8")))
    return hashlib.sha256(data).hexdigest()[:V1_HEX_DIGITS]


def station_id(kind: StationKind, mac: str | None, name: str | None) -> str | None:
    """The wire identifier (`v1:<hex>`) of a station as seen, or None without a usable MAC or name."""
    normalized = normalize_mac(mac)
    cleaned = clean_name(name)
    if normalized is None or cleaned is None:
        return None
    return f"{CURRENT_VERSION}:{station_digest(kind, normalized, cleaned)}"


@dataclass(frozen=True, slots=True)
class HashedId:
    version: str
    digest: str  # lower-case hex

    @property
    def wire(self) -> str:
        return f"{self.version}:{self.digest}"


def parse_station_id(value: str) -> HashedId:
    """`v1:<32 hex>` (hex in any case, surrounding spaces ignored) → HashedId.

    Raises HashFormatError for malformed values and for versions this server does not support.
    """
    version, sep, digest = value.strip().partition(":")
    version = version.lower()
    if not sep or not _VERSION.fullmatch(version):
        raise HashFormatError(f"not a versioned station identifier: {value[:80]!r}")
    if version not in SUPPORTED_VERSIONS:
        raise HashFormatError(f"unsupported station identifier scheme {version!r}")
    digest = digest.lower()
    if not _V1_DIGEST.fullmatch(digest):
        raise HashFormatError(f"a {version} identifier needs {V1_HEX_DIGITS} hex digits")
    return HashedId(version, digest)
