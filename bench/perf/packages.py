"""Sizes of the Lambda layer and function packages built by `make package` (build/…)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any


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
    """{"layer": {...}, "functions": {name: {...}}} in MB, or {"built": False} without build/."""
    build = root / "build"
    layer = build / "layer"
    functions = build / "functions"
    if not layer.is_dir() and not functions.is_dir():
        return {"built": False}
    out: dict[str, Any] = {"built": True, "functions": {}}
    if layer.is_dir():
        out["layer"] = {"unzipped_mb": _tree_bytes(layer) / 1e6, "zipped_mb": _zipped_bytes(layer) / 1e6}
    geoip = build / "geoip"
    if geoip.is_dir():
        out["geoip_layer"] = {
            "unzipped_mb": _tree_bytes(geoip) / 1e6,
            "zipped_mb": _zipped_bytes(geoip) / 1e6,
        }
    if functions.is_dir():
        for function in sorted(p for p in functions.iterdir() if p.is_dir()):
            out["functions"][function.name] = {
                "unzipped_mb": _tree_bytes(function) / 1e6,
                "zipped_mb": _zipped_bytes(function) / 1e6,
            }
    return out
