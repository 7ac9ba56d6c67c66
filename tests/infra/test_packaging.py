"""`make package` helpers that run without pip or the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.packaging import (
    FUNCTIONS,
    asset_dirs,
    is_placeholder,
    package_geoip,
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
    assert not names & {"boto3", "botocore"}
    assert {"pynamodb", "aws-lambda-powertools", "mangum"} <= names


def test_unbuilt_assets_are_placeholders(tmp_path: Path) -> None:
    dirs = asset_dirs(tmp_path)
    assert set(dirs) == {"layer", "geoip", "site", *FUNCTIONS}
    assert all(is_placeholder(path) for path in dirs.values())


def test_built_assets_are_used(tmp_path: Path) -> None:
    (tmp_path / "build" / "layer" / "python" / "openloc").mkdir(parents=True)
    for name in FUNCTIONS:
        folder = tmp_path / "build" / "functions" / name
        folder.mkdir(parents=True)
        (folder / "handler.py").write_text("def handler(event, context): ...\n")
    dirs = asset_dirs(tmp_path)
    assert dirs["layer"] == tmp_path / "build" / "layer"
    assert not any(is_placeholder(dirs[name]) for name in ("layer", *FUNCTIONS))
    assert is_placeholder(dirs["geoip"])


def test_geoip_layer_copies_databases_and_licence(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "city-ipv4.mmdb").write_bytes(b"4")
    (source / "city-ipv6.mmdb").write_bytes(b"6")
    (source / "DBIP-LICENSE").write_text("CC BY 4.0")
    (source / "README.md").write_text("not shipped")
    built = package_geoip(source, tmp_path)
    assert built is not None
    assert sorted(p.name for p in (built / "geoip").iterdir()) == [
        "DBIP-LICENSE",
        "city-ipv4.mmdb",
        "city-ipv6.mmdb",
    ]
    assert not is_placeholder(asset_dirs(tmp_path)["geoip"])


def test_geoip_layer_skipped_without_databases(tmp_path: Path) -> None:
    assert package_geoip(tmp_path / "missing", tmp_path) is None
    assert is_placeholder(asset_dirs(tmp_path)["geoip"])
