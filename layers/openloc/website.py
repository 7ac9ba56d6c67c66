"""Build and publish the static website (map, downloads, stats, API docs).

Sources live in `web/` of the repository; the browser libraries come from `node_modules/` (pinned
in package.json) and are copied into the site under `vendor/` at build time, so the published site
loads nothing from third-party hosts. The country outlines of the map's background
(`basemap/countries.geojson`) are derived from the shipped region data. Bucket layout (served by
CloudFront at the root of the site):

    index.html downloads.html stats.html api.html   pages (Cache-Control: 5 min)
    assets/…                                         the site's own CSS/JS (5 min)
    vendor/<library>/…                               Leaflet, pmtiles, uPlot, swagger-ui (1 day)
    basemap/countries.geojson                        map background (1 day)

    openapi.json                                     the API's OpenAPI document (5 min)

and next to them, written by the scheduled jobs: `tiles/…`, `stats.json`, `downloads.json`,
`exports/…`. `openapi.json` is published with the site so the API page works whether or not the
API is behind the same CloudFront distribution (`openloc:api_behind_cdn`); when it is, CloudFront
sends `/openapi.json` to the API, which serves the same document (and so does `make run`).
"""

from __future__ import annotations

import array
import base64
import gzip
import json
import sys
from functools import cache
from importlib import resources
from itertools import accumulate
from pathlib import Path
from typing import Any

from openloc.store.objects import ObjectStore

# site path → path under node_modules/ (a trailing "/" copies a folder)
VENDOR: dict[str, str] = {
    "vendor/leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "vendor/leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "vendor/leaflet/images/": "leaflet/dist/images/",
    "vendor/leaflet/LICENSE": "leaflet/LICENSE",
    "vendor/pmtiles/pmtiles.js": "pmtiles/dist/pmtiles.js",
    "vendor/pmtiles/package.json": "pmtiles/package.json",  # BSD-3-Clause; the package ships no LICENSE file
    "vendor/uplot/uPlot.iife.min.js": "uplot/dist/uPlot.iife.min.js",
    "vendor/uplot/uPlot.min.css": "uplot/dist/uPlot.min.css",
    "vendor/uplot/LICENSE": "uplot/LICENSE",
    "vendor/swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "vendor/swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "vendor/swagger-ui/LICENSE": "swagger-ui-dist/LICENSE",
    "vendor/swagger-ui/swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt",
}
BASEMAP_KEY = "basemap/countries.geojson"
OPENAPI_KEY = "openapi.json"
BASEMAP_STEP = 0.1  # degrees between kept outline vertices (~10 km: a few px at zoom 7)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".geojson": "application/json",  # CloudFront compresses application/json, not geo+json
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
# The site's Content-Security-Policy: only its own scripts, styles, images and data. CloudFront's
# response-headers policy (infra/cdn.py) and the local stack's static server both send it.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # Leaflet and swagger-ui set inline styles
        "img-src 'self' data: blob:",
        "worker-src 'self' blob:",  # pmtiles may decode in blob workers
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_CACHE = "public, max-age=300"
LIBRARY_CACHE = "public, max-age=86400"


class SiteBuildError(RuntimeError):
    pass


def content_type(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    if name == "LICENSE":
        return CONTENT_TYPES[".txt"]
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def cache_control(key: str) -> str:
    return LIBRARY_CACHE if key.startswith(("vendor/", "basemap/")) else PAGE_CACHE


def repository_root() -> Path:
    """The checkout holding `web/` and `node_modules/` (next to `functions/`)."""
    from openloc.local.functions import functions_dir

    return functions_dir().parent


def _simplify(points: list[tuple[float, float]]) -> list[list[float]]:
    """Radial-distance simplification: keep a vertex only BASEMAP_STEP away from the last one kept.

    Returns the closed ring rounded to 0.01°, or [] for a ring smaller than two steps."""
    ring: list[tuple[float, float]] = []
    for x, y in points:
        if not ring or max(abs(x - ring[-1][0]), abs(y - ring[-1][1])) >= BASEMAP_STEP:
            ring.append((x, y))
    xs, ys = [x for x, _ in ring], [y for _, y in ring]
    if len(ring) < 3 or max(max(xs) - min(xs), max(ys) - min(ys)) < 2 * BASEMAP_STEP:
        return []  # islets: invisible at the zooms where the outlines matter
    return [[round(x, 2), round(y, 2)] for x, y in [*ring, ring[0]]]


@cache
def countries_json() -> bytes:
    """`countries_geojson()` serialised (computed once per process: it takes about a second)."""
    return json.dumps(countries_geojson(), separators=(",", ":")).encode()


def countries_geojson() -> dict[str, Any]:
    """Country outlines from the shipped region data, simplified to BASEMAP_STEP."""
    blob = resources.files("openloc.geo.data").joinpath("regions.json.gz").read_bytes()
    doc = json.loads(gzip.decompress(blob))
    scale = int(doc["meta"]["scale"])
    features: list[dict[str, Any]] = []
    for polygon in doc["polygons"]:
        rings: list[list[list[float]]] = []
        for i, encoded in enumerate(polygon["rings"]):
            steps = array.array("h")
            steps.frombytes(base64.b64decode(encoded))
            if sys.byteorder == "big":
                steps.byteswap()
            xs = accumulate(steps[0::2], initial=polygon["starts"][2 * i])
            ys = accumulate(steps[1::2], initial=polygon["starts"][2 * i + 1])
            ring = _simplify([(x / scale, y / scale) for x, y in zip(xs, ys, strict=True)])
            if ring:
                rings.append(ring)
        if rings:
            features.append(
                {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": rings}}
            )
    return {"type": "FeatureCollection", "features": features}


def site_files(root: Path | None = None) -> dict[str, bytes]:
    """Every file of the site, by its key in the bucket."""
    root = root or repository_root()
    web, modules = root / "web", root / "node_modules"
    if not web.is_dir():
        raise SiteBuildError(f"no web/ folder in {root}")
    files = {
        path.relative_to(web).as_posix(): path.read_bytes()
        for path in sorted(web.rglob("*"))
        if path.is_file()
    }
    for target, source in VENDOR.items():
        origin = modules / source
        if source.endswith("/"):
            if not origin.is_dir():
                raise SiteBuildError(f"{origin} is missing: run `npm install`")
            for path in sorted(origin.rglob("*")):
                if path.is_file():
                    files[target + path.relative_to(origin).as_posix()] = path.read_bytes()
        elif origin.is_file():
            files[target] = origin.read_bytes()
        else:
            raise SiteBuildError(f"{origin} is missing: run `npm install`")
    files[BASEMAP_KEY] = countries_json()
    from openloc.api.openapi import openapi_document

    files[OPENAPI_KEY] = json.dumps(openapi_document(), separators=(",", ":")).encode()
    return files


def build_site(out: Path, root: Path | None = None) -> int:
    """Write the site into a folder (for inspection or a CDK BucketDeployment); returns the file count."""
    files = site_files(root)
    for key, body in files.items():
        target = out / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    return len(files)


def publish_site(store: ObjectStore, files: dict[str, bytes] | None = None) -> int:
    """Upload the site's files with their Content-Type and Cache-Control; returns the count."""
    files = site_files() if files is None else files
    for key, body in files.items():
        store.put(key, body, content_type(key), cache_control(key))
    return len(files)
