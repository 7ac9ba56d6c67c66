"""Build and publish the static website (map, downloads, stats, API docs).

Sources live in `web/` of the repository; the browser libraries come from `node_modules/` (pinned
in package.json) and are copied into the site under `vendor/` at build time, so the published site
loads nothing from third-party hosts (unless a deployment configures a base layer for the map,
below). The country outlines of the map's background
(`basemap/countries.geojson`) are derived from the shipped region data. Bucket layout (served by
CloudFront at the root of the site):

    index.html downloads.html stats.html api.html   pages (Cache-Control: 5 min)
    assets/…                                         the site's own CSS/JS (5 min)
    vendor/<library>/…                               Leaflet, pmtiles, uPlot, swagger-ui (1 day)
    basemap/countries.geojson                        map background (1 day)

    openapi.json                                     the API's OpenAPI document (5 min)
    config.json                                      the map's base layer, if any (5 min)

and next to them, written by the scheduled jobs: `tiles/…`, `stats.json`, `downloads.json`,
`exports/…`. The map draws over the country outlines, or over a raster base layer a deployment
configures (`Basemap`, written into `config.json`; the CSP then allows that tile host).
`openapi.json` is published with the site so the API page works whether or not the API is behind
the same CloudFront distribution (`openloc:api_behind_cdn`); when it is, CloudFront sends
`/openapi.json` to the API, which serves the same document (and so does `make run`).
"""

from __future__ import annotations

import array
import base64
import gzip
import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openloc.store.objects import ObjectStore

if TYPE_CHECKING:
    from openloc.settings import Settings

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
CONFIG_KEY = "config.json"


# --- the map's base layer -------------------------------------------------------------------------
#
# By default the coverage map draws over country outlines built from the shipped region data and
# loads nothing from another host (make run, the tests, offline setups). A deployment may
# configure a raster base layer instead (streets and labels): a tile URL template, its attribution
# and its highest zoom. The site reads it from `config.json` at startup, and the site's
# Content-Security-Policy then allows images from that one origin (and only then).

_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?&=%{}@+,]+")
_PLACEHOLDERS = re.compile(r"\{([^{}]*)\}")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
MAX_ATTRIBUTION = 200


class BasemapError(ValueError):
    """A base layer configuration that the site cannot use safely."""


def _origin(url: str, what: str, template: bool) -> str:
    """The CSP source of an http(s) URL: https anywhere, plain http only on loopback (local tile
    servers); `{s}` (Leaflet's subdomains) only as the first label of the host."""
    if not _URL_CHARACTERS.fullmatch(url):
        raise BasemapError(f"{what} has characters a URL template may not have: {url!r}")
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if scheme not in ("https", "http") or not host or "@" in host:
        raise BasemapError(f"{what} must be an https:// URL, got {url!r}")
    bare = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if scheme == "http" and bare not in _LOOPBACK:
        raise BasemapError(f"{what} must use https (plain http only for a tile server on this machine)")
    if template and host.startswith("{s}."):
        host = "*." + host.removeprefix("{s}.")
    if "{" in host or "}" in host:
        raise BasemapError(f"{what}: only {{s}} may stand in the host, as its first label")
    return f"{scheme}://{host}"


@dataclass(frozen=True)
class Basemap:
    """A raster base layer (Leaflet `L.tileLayer`): `url` with `{z}`, `{x}`, `{y}` (and optionally
    `{s}`, `{r}`), the attribution the tiles' licence asks for (plain text, with an optional link)."""

    url: str
    attribution: str
    attribution_url: str = ""
    max_zoom: int = 19

    def __post_init__(self) -> None:
        self.origin  # noqa: B018 (validates the URL)
        names = set(_PLACEHOLDERS.findall(self.url))
        if not {"z", "x", "y"} <= names or not names <= {"z", "x", "y", "s", "r"}:
            raise BasemapError(
                f"the base layer URL needs {{z}}, {{x}} and {{y}} (and may use {{s}}, {{r}}): {self.url!r}"
            )
        if not self.attribution.strip() or len(self.attribution) > MAX_ATTRIBUTION:
            raise BasemapError(f"the base layer needs its attribution (1-{MAX_ATTRIBUTION} characters)")
        if self.attribution_url:
            _origin(self.attribution_url, "the attribution link", template=False)
        if not 0 <= self.max_zoom <= 22:
            raise BasemapError(f"the base layer's max zoom must be 0-22, got {self.max_zoom}")

    @property
    def origin(self) -> str:
        return _origin(self.url, "the base layer URL", template=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "attribution": self.attribution,
            "attributionUrl": self.attribution_url or None,
            "maxZoom": self.max_zoom,
        }

    @classmethod
    def from_json(cls, value: Any) -> Basemap | None:
        """The base layer of a published `config.json` (None: none, or not a usable one)."""
        if not isinstance(value, dict):
            return None
        try:
            return cls(
                str(value["url"]),
                str(value["attribution"]),
                str(value.get("attributionUrl") or ""),
                int(value.get("maxZoom", 19)),
            )
        except (KeyError, TypeError, ValueError):
            return None


def basemap_from_settings(settings: Settings) -> Basemap | None:
    """The base layer `OPENLOC_BASEMAP_URL` & co. configure (None when the URL is empty)."""
    if not settings.openloc_basemap_url:
        return None
    return Basemap(
        settings.openloc_basemap_url,
        settings.openloc_basemap_attribution,
        settings.openloc_basemap_attribution_url,
        settings.openloc_basemap_max_zoom,
    )


def site_config(basemap: Basemap | None) -> bytes:
    """`config.json`: what the site reads at startup."""
    return json.dumps({"basemap": basemap.to_json() if basemap else None}, separators=(",", ":")).encode()


def content_security_policy(basemap: Basemap | None = None) -> str:
    """The site's Content-Security-Policy: only its own scripts, styles, images and data, plus the
    base layer's tiles when one is configured. CloudFront's response-headers policy (infra/cdn.py)
    and the local stack's static server both send it."""
    images = "img-src 'self' data: blob:" + (f" {basemap.origin}" if basemap else "")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",  # Leaflet and swagger-ui set inline styles
            images,
            "worker-src 'self' blob:",  # pmtiles may decode in blob workers
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
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


def site_files(root: Path | None = None, basemap: Basemap | None = None) -> dict[str, bytes]:
    """Every file of the site, by its key in the bucket (`config.json` naming `basemap`)."""
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
    files[CONFIG_KEY] = site_config(basemap)
    return files


def build_site(out: Path, root: Path | None = None, basemap: Basemap | None = None) -> int:
    """Write the site into a folder (for inspection or a CDK BucketDeployment, which writes its own
    `config.json` from the CDK context); returns the file count."""
    files = site_files(root, basemap)
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
