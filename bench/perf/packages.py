"""Sizes of what `make package` built (build/…): each layer, and each function with its layers."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from infra.functions import SPECS
from infra.packaging import function_sizes, layer_dir


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _zipped_bytes(root: Path) -> int:
    """Size of the directory as a deflated zip (what Lambda stores), built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    return buffer.tell()


def package_sizes(root: Path) -> dict[str, Any]:
    """{"layers": {name: MB}, "functions": {name: per part and total MB, budget}} of build/, or
    {"built": False} without a build."""
    layers = {name: layer_dir(name, root) for name in ("service", "export", "geoip")}
    if not any(folder.is_dir() for folder in layers.values()):
        return {"built": False}
    out: dict[str, Any] = {"built": True, "layers": {}, "functions": {}}
    for name, folder in layers.items():
        if folder.is_dir():
            out["layers"][name] = {
                "unzipped_mb": _tree_bytes(folder) / 1e6,
                "zipped_mb": _zipped_bytes(folder) / 1e6,
            }
    for name, row in function_sizes(root).items():
        out["functions"][name] = {
            **row,
            "budget_mb": SPECS[name].budget_mb,
            "layers": list(SPECS[name].layers),
        }
    return out
