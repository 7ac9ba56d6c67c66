"""Lambda packaging without Docker: `make package` (= `python -m infra.packaging`) fills build/.

    build/layer/python/            the layer: runtime dependencies (arm64 wheels) + the openloc package
    build/functions/<name>/        one folder per function: a copy of functions/<name>/
    build/site/                    the static website (`make site`, copied by the Website construct)
    build/geoip/geoip/             the GeoIP layer (mmdb files, mounted at /opt/geoip), from
                                   GEOIP_SOURCE or the DB-IP city files npm installed

Dependencies are pyproject's runtime `dependencies`, installed as manylinux aarch64 / CPython 3.12
wheels (`--only-binary=:all:`, so nothing is compiled on this machine). boto3 and botocore are not
shipped: the Lambda Python runtime provides them. They cannot simply be left out of the pip
command, because pynamodb and the X-Ray SDK (powertools[tracer]) depend on botocore, so pip
resolves the whole dependency tree normally (versions stay consistent) and the AWS SDK
distributions are then pruned from the target (`PRUNED`). Their small pure-Python dependencies
(jmespath, urllib3, python-dateutil) stay: powertools and requests import them directly.

`asset_dirs(root)` gives the CDK constructs the folders to upload. Before `make package` (tests,
a first `cdk synth`) it substitutes empty placeholder folders holding a README marker, so the app
still synthesizes; `is_placeholder()` tells them apart and infra/app.py warns about them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("locate", "submit", "aggregate", "export", "rotate")
# The free DB-IP city databases (CC BY 4.0) that `make geoip` installs from npm.
DEFAULT_GEOIP_SOURCE = ROOT / "node_modules" / "@ip-location-db" / "dbip-city-mmdb"
GEOIP_LICENSE_FILES = ("DBIP-LICENSE", "LICENSE", "COPYRIGHT.txt", "LICENSE.txt")
# Lambda's limit for a function's code plus all its layers, unzipped.
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
# Provided by the Lambda runtime; pruned from the layer after pip resolved the tree.
EXCLUDED_REQUIREMENTS = frozenset({"boto3", "botocore"})
PRUNED = ("boto3", "botocore", "s3transfer")
PIP_PLATFORM_ARGS = (
    # Lambda arm64 runs Amazon Linux 2023 (glibc 2.34): manylinux2014 (glibc 2.17) wheels and the
    # newer manylinux_2_28 ones some packages publish for aarch64 both run there.
    "--platform",
    "manylinux2014_aarch64",
    "--platform",
    "manylinux_2_28_aarch64",
    "--only-binary=:all:",
    "--python-version",
    "3.12",
    "--implementation",
    "cp",
)
PLACEHOLDER_MARKER = "OPENLOC_PLACEHOLDER.md"
PLACEHOLDER_TEXT = (
    "Placeholder asset: `make package` has not been run, so this folder stands in for the real\n"
    "build output to let the CDK app synthesize. Never deploy a stack built from it.\n"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def requirement_name(requirement: str) -> str:
    """The normalized distribution name of a PEP 508 requirement ("aws-lambda-powertools[tracer]>=3")."""
    match = _NAME.match(requirement.strip())
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def runtime_requirements(root: Path = ROOT) -> list[str]:
    """pyproject's runtime dependencies minus those the Lambda runtime provides (boto3, botocore)."""
    with (root / "pyproject.toml").open("rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    return [dep for dep in dependencies if requirement_name(dep) not in EXCLUDED_REQUIREMENTS]


def build_dir(root: Path = ROOT) -> Path:
    return root / "build"


def is_placeholder(path: Path) -> bool:
    return (path / PLACEHOLDER_MARKER).is_file()


def _placeholder(name: str) -> Path:
    # Outside the repository (a temporary folder), so it never passes for a real build and the
    # content, hence the CDK asset hash, is the same on every synth.
    path = Path(tempfile.gettempdir()) / "openloc-asset-placeholders" / name
    path.mkdir(parents=True, exist_ok=True)
    marker = path / PLACEHOLDER_MARKER
    if not marker.is_file():
        marker.write_text(PLACEHOLDER_TEXT, encoding="utf-8")
    return path


def asset_dirs(root: Path = ROOT) -> dict[str, Path]:
    """Asset folders for the constructs: "layer" (holding python/) and one per function name.

    A folder `make package` has not produced yet is replaced by a placeholder (see module doc).
    """
    build = build_dir(root)
    layer = build / "layer"
    dirs = {"layer": layer if (layer / "python" / "openloc").is_dir() else _placeholder("layer")}
    for name in FUNCTIONS:
        folder = build / "functions" / name
        dirs[name] = folder if (folder / "handler.py").is_file() else _placeholder(name)
    geoip = build / "geoip"
    dirs["geoip"] = geoip if any((geoip / "geoip").glob("*.mmdb")) else _placeholder("geoip")
    site = build / "site"
    dirs["site"] = site if (site / "index.html").is_file() else _placeholder("site")
    return dirs


def package_geoip(source: Path, root: Path = ROOT) -> Path | None:
    """Copy the mmdb files of `source` (a file or a folder) into build/geoip/geoip/.

    Returns the folder, or None (and removes a stale one) when `source` holds no mmdb file.
    """
    target = build_dir(root) / "geoip"
    if target.exists():
        shutil.rmtree(target)
    files = [source] if source.is_file() else sorted(source.glob("*.mmdb")) if source.is_dir() else []
    files = [file for file in files if file.suffix == ".mmdb"]
    if not files:
        return None
    folder = target / "geoip"
    folder.mkdir(parents=True)
    directory = source if source.is_dir() else source.parent
    for file in [*files, *(directory / name for name in GEOIP_LICENSE_FILES)]:
        if file.is_file():
            shutil.copy2(file, folder / file.name)
    return target


def directory_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file() and not file.is_symlink())


def _prune(site: Path) -> list[str]:
    removed = []
    for entry in sorted(site.iterdir()):
        name = entry.name
        distribution = re.sub(r"-\d.*\.dist-info$", "", name) if name.endswith(".dist-info") else name
        if distribution.lower() in PRUNED:
            shutil.rmtree(entry)
            removed.append(name)
    return removed


# Parts of the openloc package that no function imports (import-linter keeps it so): the
# command line, the embedded local stack and the website builder stay out of the layer.
TOOLING = frozenset({"cli", "local", "website.py"})


def _service_only(folder: str, names: list[str]) -> set[str]:
    """`copytree` ignore rule for the layer's copy of openloc: caches, and TOOLING at its root."""
    ignored = {n for n in names if n == "__pycache__" or n.endswith(".pyc")}
    if Path(folder).name == "openloc" and Path(folder).parent.name == "layers":
        ignored |= TOOLING & set(names)
    return ignored


def _clean_tree(path: Path) -> None:
    for cache in path.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    bin_dir = path / "bin"  # console scripts: useless in a layer
    if bin_dir.is_dir():
        shutil.rmtree(bin_dir)


def package(root: Path = ROOT, *, python: str = sys.executable, quiet: bool = False) -> Path:
    """Build build/layer and build/functions from scratch; returns the layer folder."""
    started = time.monotonic()
    build = build_dir(root)
    layer = build / "layer"
    site = layer / "python"
    functions = build / "functions"
    for stale in (layer, functions):
        if stale.exists():
            shutil.rmtree(stale)
    site.mkdir(parents=True)

    requirements = runtime_requirements(root)
    command = [
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-compile",
        *PIP_PLATFORM_ARGS,
        "--target",
        str(site),
        *(["--quiet"] if quiet else []),
        *requirements,
    ]
    print("pip install (arm64, cp312):", " ".join(requirements), flush=True)
    subprocess.run(command, check=True)
    removed = _prune(site)
    print("pruned (provided by the Lambda runtime):", ", ".join(removed) or "nothing", flush=True)

    shutil.copytree(root / "layers" / "openloc", site / "openloc", ignore=_service_only)
    _clean_tree(site)

    for name in FUNCTIONS:
        # The whole folder: a function may keep helpers next to its handler.py.
        shutil.copytree(
            root / "functions" / name,
            functions / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"),
        )

    size = directory_size(layer) + sum(directory_size(functions / name) for name in FUNCTIONS)
    print(
        f"layer: {directory_size(layer) / 1e6:.1f} MB unzipped ({layer}); functions + layer "
        f"{size / 1e6:.1f} MB of Lambda's {UNZIPPED_LIMIT_BYTES / 1e6:.0f} MB (250 MiB); "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    if size > UNZIPPED_LIMIT_BYTES:
        raise SystemExit(f"layer too large: {size} bytes unzipped > {UNZIPPED_LIMIT_BYTES}")
    return layer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    parser.add_argument("--quiet", action="store_true", help="quiet pip")
    parser.add_argument(
        "--geoip-source",
        type=Path,
        default=Path(os.environ.get("GEOIP_SOURCE") or DEFAULT_GEOIP_SOURCE),
        help="mmdb file or folder for the GeoIP layer (env GEOIP_SOURCE; default: the npm DB-IP files)",
    )
    args = parser.parse_args(argv)
    package(args.root, quiet=args.quiet)
    geoip = package_geoip(args.geoip_source, args.root)
    if geoip is None:
        print(f"no mmdb in {args.geoip_source}: no GeoIP layer (deploy with -c openloc:geoip=none|s3)")
    else:
        # locate carries both layers: together with its code they must stay under Lambda's limit.
        locate = sum(directory_size(p) for p in (geoip, build_dir(args.root) / "layer"))
        locate += directory_size(build_dir(args.root) / "functions" / "locate")
        print(f"GeoIP layer: {directory_size(geoip) / 1e6:.1f} MB; locate total {locate / 1e6:.1f} MB")
        if locate > UNZIPPED_LIMIT_BYTES:
            raise SystemExit(
                f"locate with the GeoIP layer is {locate} bytes unzipped > {UNZIPPED_LIMIT_BYTES}"
            )


if __name__ == "__main__":
    main()
