"""The compact GeoIP files: converted from real mmdb files, they answer as the source does."""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path
from typing import Any

import pytest
from openloc.geo.distance import haversine_m
from openloc.locate.geoip import GeoIpDatabase, from_path
from openloc.locate.geoip_compact import CompactReader, convert_mmdb, merged_ranges

# (network, city, country, lat, lon); DB-IP's flat schema. Neighbours with the same place merge.
FLAT = [
    ("81.0.0.0/24", "Berlin", "DE", 52.5244, 13.4105),
    ("81.0.1.0/24", "Berlin", "DE", 52.5244, 13.4105),
    ("81.0.2.0/23", "", "DE", 51.1657, 10.4515),  # country only
    ("81.0.8.0/21", "Paris", "FR", 48.8534, 2.3488),
    ("203.0.113.0/24", "Nowhere", "XX", 0.0, 0.0),  # documentation range: never a public answer
    ("2001:db8:1::/48", "Berlin", "DE", 52.5244, 13.4105),
    ("2a01:4f8::/32", "Falkenstein", "DE", 50.4779, 12.3713),
    ("2a01:4f9:c010:1::/64", "Helsinki", "FI", 60.1695, 24.9354),
]


def _write_flat(path: Path, version: int) -> Path:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=version, database_type="city", description={"en": "test"})
    for network, city, country, lat, lon in FLAT:
        if ipaddress.ip_network(network).version != version:
            continue
        record: dict[str, Any] = {
            "city": city, "country_code": country, "latitude": lat, "longitude": lon,
            "postcode": "", "state1": "", "state2": "", "timezone": "",
        }  # fmt: skip
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("dbip")
    return [_write_flat(folder / "city-ipv4.mmdb", 4), _write_flat(folder / "city-ipv6.mmdb", 6)]


@pytest.fixture(scope="module")
def compact(sources: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("compact")
    written = convert_mmdb(sources, target, {"source": "test"})
    assert sorted(p.name for p in written) == ["ipv4.olgeo", "ipv6.olgeo"]
    return target


def _addresses() -> list[str]:
    rng = random.Random(5)
    out = []
    for network, *_ in FLAT:
        net = ipaddress.ip_network(network)
        out += [str(net[0]), str(net[-1])] + [str(net[rng.randrange(net.num_addresses)]) for _ in range(20)]
    # around and between the networks: gaps answer nothing
    out += [
        "81.0.4.1",
        "80.255.255.255",
        "8.8.8.8",
        "2a01:4f7:ffff::1",
        "2001:db8:2::1",
        "2a01:4f9:c010:2::1",
    ]
    return out


def test_compact_answers_what_the_source_answers(sources: list[Path], compact: Path) -> None:
    full = GeoIpDatabase([str(p) for p in sources])
    trimmed = from_path(str(compact))
    assert trimmed is not None
    compared = 0
    for address in _addresses():
        a, b = full.lookup(address), trimmed.lookup(address)
        assert (a is None) == (b is None), address
        if a is None or b is None:
            continue
        compared += 1
        assert (b.country_code, b.city, b.accuracy_m) == (a.country_code, a.city, a.accuracy_m), address
        assert haversine_m(a.lat, a.lon, b.lat, b.lon) < 800, address  # rounded to 0.01°
    assert compared > 100
    assert full.lookup("203.0.113.7") is None and trimmed.lookup("203.0.113.7") is None


def test_the_compact_file_keeps_only_distinct_records_and_merged_ranges(compact: Path) -> None:
    reader = CompactReader(compact / "ipv4.olgeo")
    assert reader.metadata["source"] == "city-ipv4.mmdb"
    assert reader.metadata["build_epoch"] > 0  # the source's: the heartbeat reports the data's age
    # Berlin, country-only DE, Paris, the documentation block: four records; the two Berlin /24s
    # are one range.
    assert reader.records == 4
    starts = reader.starts()
    assert int(ipaddress.IPv4Address("81.0.1.0")) not in starts
    assert int(ipaddress.IPv4Address("81.0.0.0")) in starts
    reader.close()


def test_ipv6_is_keyed_by_its_64_bit_prefix(compact: Path) -> None:
    reader = CompactReader(compact / "ipv6.olgeo")
    inside = reader.get(ipaddress.IPv6Address("2a01:4f9:c010:1::abcd"))
    assert inside is not None and inside.country_code == "FI"
    assert reader.get(ipaddress.IPv4Address("81.0.0.1")) is None  # another version: no answer
    reader.close()


def test_merged_ranges_merge_neighbours_keep_gaps_and_absorb_finer_blocks() -> None:
    a = (1, 2, 3, b"DE", 1)
    b = (4, 5, 6, b"FR", 1)
    blocks = [(0, 9, a), (10, 19, a), (30, 39, b), (30, 30, a), (40, 49, None), (50, 59, b)]
    assert list(merged_ranges(blocks, 100)) == [(0, a), (20, None), (30, b), (40, None), (50, b), (60, None)]
    assert list(merged_ranges([(0, 99, a)], 100)) == [(0, a)]  # up to the end of the space


def test_a_truncated_or_foreign_file_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.olgeo"
    bogus.write_bytes(b"MMDB" + bytes(64))
    with pytest.raises(ValueError, match="not an OpenLoc compact GeoIP file"):
        CompactReader(bogus)
    database = GeoIpDatabase(str(bogus))
    assert database.lookup("81.0.0.1") is None  # logged, never raised into a request


def test_the_heartbeat_sees_the_source_databases_build_time(sources: list[Path], compact: Path) -> None:
    import maxminddb

    with maxminddb.open_database(str(sources[0])) as reader:
        built = int(reader.metadata().build_epoch)
    database = from_path(str(compact))
    assert database is not None
    database.lookup("81.0.0.1")  # opens the files
    health = database.health()
    assert health.up and health.files == health.opened == 2
    assert health.oldest_build_epoch is not None and abs(health.oldest_build_epoch - built) <= 5
