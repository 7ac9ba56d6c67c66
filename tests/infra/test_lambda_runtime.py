"""What the layers leave to the Lambda runtime is really there, in versions our code accepts.

`make package` prunes boto3, botocore and s3transfer from the layers (infra/packaging.py,
`RUNTIME_PROVIDED`): the Python 3.12 runtime provides them. infra/lambda_runtime.json records what
that runtime provides (with its sources; versions are lower bounds, the runtime's SDK only moves
forward). Here: every pruned distribution is one the runtime provides, and every requirement on
it, from pyproject and from every distribution the service layer ships (their metadata, markers
evaluated for CPython 3.12 on Linux), accepts the runtime's version. A dependency that starts to
require a newer botocore than the runtime has fails this test instead of the deployed function.
"""

from __future__ import annotations

import importlib.metadata
import json
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from infra.packaging import ROOT, RUNTIME_PROVIDED, runtime_requirements

MANIFEST = json.loads((ROOT / "infra" / "lambda_runtime.json").read_text(encoding="utf-8"))
LAMBDA_ENVIRONMENT = {"python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": "linux",
                      "platform_system": "Linux", "platform_machine": "aarch64", "implementation_name": "cpython",
                      "platform_python_implementation": "CPython", "os_name": "posix"}  # fmt: skip


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(
        requirement.marker.evaluate({**LAMBDA_ENVIRONMENT, "extra": extra}) for extra in (extras or {""})
    )


def shipped_requirements() -> list[tuple[str, Requirement]]:
    """(who requires, requirement) over the closure of the service layer's dependencies, from the
    installed distributions' metadata (the same versions `make package` resolves)."""
    found: list[tuple[str, Requirement]] = []
    pending = [Requirement(text) for text in runtime_requirements()]
    seen: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or name in RUNTIME_PROVIDED:
            continue
        seen.add(name)
        for text in importlib.metadata.requires(requirement.name) or []:
            dependency = Requirement(text)
            if not _applies(dependency, set(requirement.extras)):
                continue
            found.append((name, dependency))
            pending.append(dependency)
    return found


def test_everything_pruned_is_provided_by_the_runtime() -> None:
    assert MANIFEST["runtime"] == "python3.12"
    from infra.compute import RUNTIME

    assert RUNTIME.name == MANIFEST["runtime"]
    assert set(RUNTIME_PROVIDED) <= set(MANIFEST["provides"])


def test_pyproject_accepts_the_runtime_sdk() -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        dependencies = [Requirement(text) for text in tomllib.load(file)["project"]["dependencies"]]
    pinned = {
        canonicalize_name(r.name): r for r in dependencies if canonicalize_name(r.name) in RUNTIME_PROVIDED
    }
    assert "boto3" in pinned
    for name, requirement in pinned.items():
        assert Version(MANIFEST["provides"][name]) in requirement.specifier, requirement


def test_every_shipped_distribution_accepts_the_runtime_sdk() -> None:
    relying = [(who, r) for who, r in shipped_requirements() if canonicalize_name(r.name) in RUNTIME_PROVIDED]
    assert any(canonicalize_name(r.name) == "botocore" for _, r in relying)  # pynamodb, the X-Ray SDK
    for who, requirement in relying:
        version = Version(MANIFEST["provides"][canonicalize_name(requirement.name)])
        assert version in requirement.specifier, f"{who} requires {requirement}; the runtime has {version}"


def test_the_runtime_manifest_cites_its_sources() -> None:
    assert all(
        source.startswith(("AWS", "Observed")) and "https://" in source for source in MANIFEST["sources"]
    )
    assert Path(ROOT / "infra" / "lambda_runtime.json").is_file()
