"""The published station identifier (scheme v1): stable, versioned, strict on input."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.model.identifiers import (
    HashFormatError,
    clean_name,
    parse_station_id,
    station_digest,
    station_id,
)
from openloc.model.kinds import StationKind

macs = (
    st.binary(min_size=6, max_size=6)
    .map(bytes.hex)
    .filter(lambda m: m not in {"000000000000", "ffffffffffff"})
)
names = st.text(min_size=1, max_size=32).filter(lambda s: s.strip() != "")


def test_v1_matches_its_documented_definition() -> None:
    data = b"openloc-station-v1\x00wifi\x00" + bytes.fromhex("001a2b3c4d5e") + "Café".encode()
    expected = hashlib.sha256(data).hexdigest()[:32]
    assert station_id(StationKind.WIFI, "00:1A:2B:3C:4D:5E", "Café") == f"v1:{expected}"


@given(macs, names)
def test_identifier_round_trips_and_ignores_mac_spelling(mac: str, name: str) -> None:
    spelled = ":".join(mac[i : i + 2] for i in range(0, 12, 2)).upper()
    wire = station_id(StationKind.WIFI, spelled, name)
    assert wire is not None and wire == station_id(StationKind.WIFI, mac, f"  {name} ")
    parsed = parse_station_id(wire.upper().replace("V1", "v1"))
    assert parsed.wire == wire and len(parsed.digest) == 32


@given(macs, names, names)
def test_name_kind_and_mac_all_matter(mac: str, name: str, other: str) -> None:
    name_clean, other_clean = clean_name(name), clean_name(other)
    assert name_clean is not None and other_clean is not None
    if name_clean != other_clean:
        assert station_digest(StationKind.WIFI, mac, name_clean) != station_digest(
            StationKind.WIFI, mac, other_clean
        )
    assert station_digest(StationKind.WIFI, mac, name_clean) != station_digest(
        StationKind.BLUE, mac, name_clean
    )
    flipped = f"{int(mac, 16) ^ 0x100:012x}"
    assert station_digest(StationKind.WIFI, mac, name_clean) != station_digest(
        StationKind.WIFI, flipped, name_clean
    )


@pytest.mark.parametrize("name", [None, "", "   "])
def test_hidden_networks_have_no_identifier(name: str | None) -> None:
    assert station_id(StationKind.WIFI, "001a2b3c4d5e", name) is None


@pytest.mark.parametrize(
    "value",
    [
        "v2:" + "0" * 32,  # unknown version
        "v9999:" + "0" * 32,
        "0" * 32,  # no version
        "v1:" + "0" * 31,  # short
        "v1:" + "0" * 33,
        "v1:" + "g" * 32,  # not hex
        "v1" + "0" * 32,
        "",
        "x1:" + "0" * 32,
    ],
)
def test_malformed_or_unknown_identifiers_are_rejected(value: str) -> None:
    with pytest.raises(HashFormatError):
        parse_station_id(value)


@given(st.text(max_size=60))
def test_parser_never_fails_otherwise(value: str) -> None:
    try:
        parsed = parse_station_id(value)
    except HashFormatError:
        return
    assert parsed.version == "v1"
