"""`make package` helpers that run without pip or the network: assets, layers, GeoIP, budgets."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from infra.functions import FUNCTION_SPECS, SPECS
from infra.packaging import (
    FUNCTIONS,
    RUNTIME_PROVIDED,
    asset_dirs,
    check_budgets,
    distributions,
    export_requirements,
    function_sizes,
    is_placeholder,
    package_geoip,
    remove_distribution,
    requirement_name,
    runtime_requirements,
)


@pytest.mark.parametrize(
    ("requirement", "name"),
    [
        ("aws-lambda-powertools[tracer]>=3", "aws-lambda-powertools"),
        ("pydantic_settings>=2", "pydantic-settings"),
        ("Geoip2 ; python_version>='3.8'", "geoip2"),
    ],
)
def test_requirement_name_normalizes(requirement: str, name: str) -> None:
    assert requirement_name(requirement) == name


def test_runtime_requirements_leave_the_aws_sdk_to_the_runtime() -> None:
    names = {requirement_name(r) for r in runtime_requirements()}
    assert not names & set(RUNTIME_PROVIDED)
    assert {"pynamodb", "aws-lambda-powertools", "mangum", "maxminddb"} <= names


def test_heavy_libraries_stay_off_the_request_path() -> None:
    """numpy, Pillow and pmtiles only in the export layer, carried by the jobs' functions (export,
    and bulk: the export code run for sharded imports and replays); no geoip2 (its web client
    drags aiohttp and requests in) nor pydantic-settings anywhere."""
    service = {requirement_name(r) for r in runtime_requirements()}
    export = {requirement_name(r) for r in export_requirements()}
    assert export == {"numpy", "pillow", "pmtiles"}
    assert not service & (export | {"geoip2", "aiohttp", "requests", "pydantic-settings"})
    assert [spec.name for spec in FUNCTION_SPECS if "export" in spec.layers] == ["export", "bulk"]
    assert [spec.code for spec in FUNCTION_SPECS if "export" in spec.layers] == ["export", "export"]
    assert [spec.name for spec in FUNCTION_SPECS if "geoip" in spec.layers] == ["locate"]


def test_unbuilt_assets_are_placeholders(tmp_path: Path) -> None:
    dirs = asset_dirs(tmp_path)
    assert set(dirs) == {"layer:service", "layer:export", "layer:geoip", "site", *FUNCTIONS}
    assert all(is_placeholder(path) for path in dirs.values())


def test_built_assets_are_used(tmp_path: Path) -> None:
    (tmp_path / "build" / "layers" / "service" / "python" / "openloc").mkdir(parents=True)
    (tmp_path / "build" / "layers" / "export" / "python" / "numpy-2.0.dist-info").mkdir(parents=True)
    for name in FUNCTIONS:
        folder = tmp_path / "build" / "functions" / name
        folder.mkdir(parents=True)
        (folder / "handler.py").write_text("def handler(event, context): ...\n")
    dirs = asset_dirs(tmp_path)
    assert dirs["layer:service"] == tmp_path / "build" / "layers" / "service"
    assert dirs["layer:export"] == tmp_path / "build" / "layers" / "export"
    assert dirs["export"] == tmp_path / "build" / "functions" / "export"
    assert not any(is_placeholder(dirs[name]) for name in ("layer:service", "layer:export", *FUNCTIONS))
    assert is_placeholder(dirs["layer:geoip"])


def _mmdb(path: Path, version: int) -> Path:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=version, database_type="city", description={"en": "test"})
    network = "81.0.0.0/16" if version == 4 else "2a01:4f8::/32"
    record = {"city": "Berlin", "country_code": "DE", "latitude": 52.52, "longitude": 13.41}
    writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


def test_geoip_layer_holds_the_compact_files_and_the_licence(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    _mmdb(source / "city-ipv4.mmdb", 4)
    _mmdb(source / "city-ipv6.mmdb", 6)
    (source / "DBIP-LICENSE").write_text("CC BY 4.0")
    (source / "README.md").write_text("not shipped")
    built = package_geoip(source, tmp_path)
    assert built is not None
    assert sorted(p.name for p in (built / "geoip").iterdir()) == ["DBIP-LICENSE", "ipv4.olgeo", "ipv6.olgeo"]
    assert not is_placeholder(asset_dirs(tmp_path)["layer:geoip"])
    from openloc.locate.geoip import from_path

    database = from_path(str(built / "geoip"))
    assert database is not None
    answer = database.lookup("81.0.12.34")
    assert answer is not None and answer.country_code == "DE" and answer.city
    assert database.lookup(str(ipaddress.IPv6Address("2a01:4f8::1"))) is not None
    # The conversion of an unchanged source is reused (build/cache).
    cached = list((tmp_path / "build" / "cache").iterdir())
    assert package_geoip(source, tmp_path) is not None
    assert list((tmp_path / "build" / "cache").iterdir()) == cached


def test_geoip_layer_can_ship_the_mmdb_files_as_they_are(tmp_path: Path) -> None:
    source = _mmdb(tmp_path / "city-ipv4.mmdb", 4)
    built = package_geoip(source, tmp_path, compact=False)
    assert built is not None
    assert [p.name for p in (built / "geoip").iterdir()] == ["city-ipv4.mmdb"]


def test_geoip_layer_skipped_without_databases(tmp_path: Path) -> None:
    assert package_geoip(tmp_path / "missing", tmp_path) is None
    assert is_placeholder(asset_dirs(tmp_path)["layer:geoip"])


def test_a_distribution_is_removed_by_its_record(tmp_path: Path) -> None:
    site = tmp_path / "python"
    (site / "botocore" / "data").mkdir(parents=True)
    (site / "botocore" / "__init__.py").write_text("")
    (site / "botocore" / "data" / "endpoints.json").write_text("{}")
    (site / "shared").mkdir()
    (site / "shared" / "keep.py").write_text("")  # another distribution's file in a shared folder
    info = site / "botocore-1.38.36.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: botocore\nVersion: 1.38.36\n")
    (info / "RECORD").write_text(
        "botocore/__init__.py,,\nbotocore/data/endpoints.json,,\n../../outside.txt,,\n"
        "botocore-1.38.36.dist-info/METADATA,,\n"
    )
    (tmp_path / "outside.txt").write_text("never touched")
    assert set(distributions(site)) == {"botocore"}
    remove_distribution(site, info)
    assert not (site / "botocore").exists() and not info.exists()
    assert (site / "shared" / "keep.py").is_file()
    assert (tmp_path / "outside.txt").is_file()


def test_budgets_are_checked_per_function(tmp_path: Path) -> None:
    build = tmp_path / "build"
    (build / "layers" / "service" / "python").mkdir(parents=True)
    (build / "layers" / "service" / "python" / "big.bin").write_bytes(bytes(30_000_000))
    (build / "geoip" / "geoip").mkdir(parents=True)
    (build / "geoip" / "geoip" / "ipv6.olgeo").write_bytes(bytes(55_000_000))
    for name in FUNCTIONS:
        (build / "functions" / name).mkdir(parents=True)
        (build / "functions" / name / "handler.py").write_text("x = 1\n")
    sizes = function_sizes(tmp_path)
    assert sizes["locate"]["total"] == pytest.approx(85.0, abs=0.01)
    assert sizes["submit"]["total"] == pytest.approx(30.0, abs=0.01)
    over = check_budgets(sizes)
    assert over == [f"locate: 85.0 MB unzipped > its budget of {SPECS['locate'].budget_mb:g} MB"]
    assert json.dumps(sizes)  # what `make package` writes to build/sizes.json


def test_cold_start_files_are_what_the_api_functions_import_first(tmp_path: Path) -> None:
    """What gets precompiled: the handlers' imports and their routes' modules, never the export
    layer's libraries."""
    import sys

    from infra.packaging import ROOT, cold_start_files, precompile

    site = tmp_path / "python"
    wanted = [
        "starlette/routing.py",
        "openloc/api/app.py",
        "openloc/api/locate_routes.py",
        "openloc/api/schemas.py",
    ]
    for name in [*wanted, "numpy/__init__.py", "PIL/Image.py", "openloc/publish/tiles.py"]:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("x = 1\n")
    files = cold_start_files(ROOT, site)
    assert set(wanted) <= set(files)
    assert not {"numpy/__init__.py", "PIL/Image.py", "openloc/publish/tiles.py"} & set(files)
    assert precompile(site, files, sys.executable) == len(files)
    tag = sys.implementation.cache_tag
    assert (site / "openloc" / "api" / "__pycache__" / f"app.{tag}.pyc").is_file()
