"""Build ``layers/openloc/geo/data/regions.json.gz``: offline country ("region") shapes + MCC table.

Dev-time only; the generated file is committed and the runtime (``openloc.geo.regions``) reads it
with the standard library. Nothing here is a runtime dependency.

Usage::

    .venv/bin/pip install pycountry          # build-time only
    .venv/bin/python scripts/build_regions.py [--node-modules DIR] [--tolerance 0.002]

Without ``--node-modules`` the script runs ``npm install --no-save world-atlas@2 mcc-mnc-list@1``
in a temporary directory (nothing is added to package.json).

Sources and licences
--------------------
* Country borders: Natural Earth 1:10m admin-0 countries (public domain), as TopoJSON from the npm
  package ``world-atlas`` 2.x (``countries-10m.json``; package licence ISC). The 1:10m file is used
  rather than 1:50m because the latter misses Gibraltar and is coarse around border cities
  (Basel, Strasbourg); it is simplified here (Douglas–Peucker on the shared TopoJSON arcs, so
  neighbours keep a common border) and rounded to 1e-4 degrees (~11 m).
* ISO 3166-1 alpha-2 codes and English names: PyPI ``pycountry`` (LGPL-2.1; its data comes from
  Debian's iso-codes). Name = ``common_name`` when pycountry has one, else ``name``.
* MCC -> regions: npm ``mcc-mnc-list`` (package licence MIT; its data is scraped from the
  Wikipedia "Mobile country code" lists, text licensed CC BY-SA 4.0). Only "National" records are
  used; test (001) and international (9xx) codes are skipped.

TopoJSON decoding (arcs, delta encoding, quantize transform) is done here; it is short.

Features without an ISO numeric id, and other deliberate choices
----------------------------------------------------------------
* Kosovo (no id) -> ``XK`` (user-assigned code used by the EU, GENC and Ichnaea), name "Kosovo".
* N. Cyprus, Cyprus U.N. Buffer Zone -> folded into ``CY`` (ISO has no separate code).
* Akrotiri, Dhekelia (UK Sovereign Base Areas, no ISO code) -> folded into ``CY``: they lie on
  the island, have open borders with it and are served by Cypriot networks (MCC 280).
* Somaliland -> folded into ``SO``.
* Baikonur (leased by Russia) -> ``KZ``; USNB Guantanamo Bay (leased by the US) -> ``CU``.
* Coral Sea Is. -> ``AU`` (Ashmore and Cartier Is. already carry Australia's id 036).
* Clipperton I. -> ``FR`` (no ISO code of its own).
* Indian Ocean Ter. -> split by location into ``CX`` (Christmas I.) and ``CC`` (Cocos Is.).
* Dropped (uninhabited, disputed between several states): Siachen Glacier, Spratly Is.,
  Scarborough Reef, Bajo Nuevo Bank, Serranilla Bank. Points there resolve to no region.
* Natural Earth keeps some ISO territories inside their parent's feature; polygons are split out
  by location: France -> GF, GP, MQ, RE, YT; Norway -> SJ (Svalbard, Jan Mayen), BV;
  Netherlands -> BQ (Caribbean Netherlands).
* Vatican City is degenerate in Natural Earth 1:10m: a coarse hand-made outline of the walls is
  used (it lies inside Italy's polygon; smaller polygons are tested first, so it wins).
* world-atlas stitches shapes across the antimeridian (Russia, Fiji, USA/Alaska's Aleutians,
  Antarctica around the South Pole); those rings are unwrapped and cut back at +/-180 degrees.
* ISO countries that have no shape (e.g. TK) are still listed (for names and MCC lookups), with
  no polygons and the 5,000 km worst-case radius.
* MCC fixes: 270 -> LU only (two Luxembourg operators are mislabelled BE in the source); 255 -> UA
  only (the MCC is Ukraine's; MD/RU entries are de-facto operators in Transnistria/Crimea);
  ``GE-AB`` (Abkhazia) -> GE. Combined codes such as ``AU/CC/CX`` are split.

Output format (all coordinates are integers in units of 1e-4 degree)
-------------------------------------------------------------------
``regions``: [{code, name, radius_m, centroid: [lat, lon]}]; ``polygons``: [{region, bbox:
[min_x, min_y, max_x, max_y], starts: [x0, y0, ...] (first point of each ring), rings: [base64 of
little-endian int16 (dx, dy) steps]}] (first ring outer, others holes; even-odd rule; rings are
open: the closing edge back to the first point is implied); ``grid``: 1 degree cells (index = row * 360 + col,
row = floor(lat) + 90, col = floor(lon) + 180), each ``[cell, poly, flag, poly, flag, ...]`` with
flag 2 = the polygon covers the whole cell, 0/1 = the polygon has edges in the cell and the cell's
reference point (col + 0.5000123, row + 0.5000321 degrees) is outside/inside it. ``radius_m`` is the
largest distance from the centroid of the region's largest polygon to that polygon's vertices,
capped at 5,000 km (the GeoIP country-level accuracy). ``mcc``: {"262": ["DE"], ...}.
"""

from __future__ import annotations

import argparse
import array
import base64
import bisect
import collections
import datetime as dt
import gzip
import itertools
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pycountry

SCALE = 10_000  # integer units per degree
REF_DX = 0.5000123
REF_DY = 0.5000321
MAX_RADIUS_M = 5_000_000.0
EARTH_RADIUS_M = 6_371_009.0
OUT = Path(__file__).resolve().parents[1] / "layers" / "openloc" / "geo" / "data" / "regions.json.gz"

FEATURE_OVERRIDES: dict[str, str | None] = {
    "Kosovo": "XK",
    "N. Cyprus": "CY",
    "Cyprus U.N. Buffer Zone": "CY",
    "Akrotiri": "CY",
    "Dhekelia": "CY",
    "Somaliland": "SO",
    "Baikonur": "KZ",
    "USNB Guantanamo Bay": "CU",
    "Coral Sea Is.": "AU",
    "Clipperton I.": "FR",
    "Indian Ocean Ter.": "CX",  # split below
    "Siachen Glacier": None,
    "Spratly Is.": None,
    "Scarborough Reef": None,
    "Bajo Nuevo Bank": None,
    "Serranilla Bank": None,
}
# (parent, child, lon_min, lat_min, lon_max, lat_max): a parent's polygon whose bbox centre lies in
# the box belongs to child.
SPLITS: list[tuple[str, str, float, float, float, float]] = [
    ("FR", "GF", -55.0, 1.5, -51.0, 6.5),
    ("FR", "GP", -62.0, 15.8, -60.8, 16.6),
    ("FR", "MQ", -61.4, 14.3, -60.7, 15.0),
    ("FR", "RE", 55.0, -21.5, 56.0, -20.7),
    ("FR", "YT", 44.9, -13.2, 45.4, -12.5),
    ("NO", "SJ", 10.0, 74.0, 35.0, 81.0),
    ("NO", "SJ", -9.5, 70.5, -7.5, 71.5),
    ("NO", "BV", 3.0, -54.7, 3.7, -54.2),
    ("NL", "BQ", -69.0, 11.9, -62.8, 17.8),
    ("CX", "CC", 96.0, -12.6, 97.5, -11.5),
]
# Natural Earth 1:10m has Vatican City as a degenerate line (and no hole in Italy): use a coarse
# hand-made outline of the city walls instead (checked first because candidates go by size).
VATICAN = [
    (124457, 419035),
    (124486, 419070),
    (124531, 419075),
    (124580, 419040),
    (124584, 419015),
    (124560, 419002),
    (124500, 419005),
    (124460, 419015),
]
EXTRA_NAMES = {"XK": "Kosovo"}
MCC_OVERRIDES = {"270": ["LU"], "255": ["UA"]}
MCC_SUBDIVISIONS = {"GE-AB": "GE"}

Point = tuple[float, float]


def ensure_node_modules(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    tmp = Path(tempfile.mkdtemp(prefix="openloc-regions-"))
    subprocess.run(
        ["npm", "install", "--no-save", "--no-package-lock", "world-atlas@2", "mcc-mnc-list@1"],
        cwd=tmp,
        check=True,
    )
    return tmp / "node_modules"


def decode_arcs(topo: dict[str, Any]) -> list[list[Point]]:
    """Absolute lon/lat arcs from a quantized, delta-encoded TopoJSON topology."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs: list[list[Point]] = []
    for arc in topo["arcs"]:
        x = y = 0
        pts: list[Point] = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    return arcs


def _seg_dist(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == 0 and dy == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def douglas_peucker(pts: list[Point], tol: float) -> list[Point]:
    if len(pts) <= 2:
        return pts
    if pts[0] == pts[-1]:  # closed arc: split at the farthest point so small islands survive
        far = max(range(1, len(pts) - 1), key=lambda i: math.dist(pts[0], pts[i]))
        return douglas_peucker(pts[: far + 1], tol)[:-1] + douglas_peucker(pts[far:], tol)
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        best, idx = 0.0, -1
        for k in range(i + 1, j):
            d = _seg_dist(pts[k], pts[i], pts[j])
            if d > best:
                best, idx = d, k
        if idx >= 0 and best > tol:
            keep[idx] = True
            stack.append((i, idx))
            stack.append((idx, j))
    return [p for p, k in zip(pts, keep, strict=True) if k]


def ring_from_arcs(indices: list[int], arcs: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    ring: list[tuple[int, int]] = []
    for i in indices:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        ring.extend(pts if not ring else pts[1:])
    dedup: list[tuple[int, int]] = []
    for p in ring:
        if not dedup or dedup[-1] != p:
            dedup.append(p)
    if len(dedup) > 1 and dedup[0] == dedup[-1]:
        dedup.pop()
    return dedup


def encode_ring(ring: list[tuple[int, int]]) -> str:
    """Base64 of little-endian int16 (dx, dy) steps after the first point (closing step omitted).

    Steps that do not fit in int16 are split with intermediate points on the segment, computed
    from the lexicographically smaller endpoint so that a border shared by two regions gets the
    same points from both sides.
    """
    out = array.array("h")
    for a, b in itertools.pairwise(ring):
        n = max(1, math.ceil(max(abs(b[0] - a[0]), abs(b[1] - a[1])) / 30_000))
        lo, hi = (a, b) if a <= b else (b, a)
        pts = [
            (round(lo[0] + (hi[0] - lo[0]) * k / n), round(lo[1] + (hi[1] - lo[1]) * k / n))
            for k in range(n + 1)
        ]
        if lo != a:
            pts.reverse()
        for (x1, y1), (x2, y2) in itertools.pairwise(pts):
            out.extend((x2 - x1, y2 - y1))
    if sys.byteorder == "big":
        out.byteswap()
    return base64.b64encode(out.tobytes()).decode("ascii")


WORLD = 360 * SCALE
HALF = 180 * SCALE


def _clip(ring: list[tuple[int, int]], x0: int, keep_above: bool) -> list[tuple[int, int]]:
    """Sutherland-Hodgman clip of a ring against the half-plane x >= x0 (or x <= x0)."""
    out: list[tuple[int, int]] = []

    def ok(p: tuple[int, int]) -> bool:
        return p[0] >= x0 if keep_above else p[0] <= x0

    for a, b in zip(ring[-1:] + ring[:-1], ring, strict=True):
        if ok(b):
            if not ok(a):
                out.append((x0, round(a[1] + (x0 - a[0]) * (b[1] - a[1]) / (b[0] - a[0]))))
            out.append(b)
        elif ok(a):
            out.append((x0, round(a[1] + (x0 - a[0]) * (b[1] - a[1]) / (b[0] - a[0]))))
    return out


def split_antimeridian(rings: list[list[tuple[int, int]]]) -> list[list[list[tuple[int, int]]]]:
    """world-atlas stitches polygons across the antimeridian (edges jump from +180 to -180, and
    Antarctica encloses the pole); unwrap such rings and cut them back into [-180, 180] pieces."""
    crosses = any(abs(b[0] - a[0]) > HALF for r in rings for a, b in zip(r, r[1:] + r[:1], strict=True))
    if not crosses:
        return [rings]
    unwrapped: list[list[tuple[int, int]]] = []
    for r in rings:
        u = [r[0]]
        for x, y in r[1:]:
            u.append((x + round((u[-1][0] - x) / WORLD) * WORLD, y))
        if abs(u[0][0] - u[-1][0]) > HALF:  # encloses a pole
            pole = -HALF // 2 if sum(p[1] for p in u) < 0 else HALF // 2
            u += [(u[-1][0], pole), (u[0][0] + round((u[-1][0] - u[0][0]) / WORLD) * WORLD, pole)]
            if u[-1][0] != u[0][0]:
                u += [(u[0][0], pole)]
        unwrapped.append(u)
    lo = min(p[0] for p in unwrapped[0])
    hi = max(p[0] for p in unwrapped[0])
    pieces: list[list[list[tuple[int, int]]]] = []
    for k in range(math.floor((lo + HALF) / WORLD), math.floor((hi + HALF) / WORLD) + 1):
        w0 = -HALF + k * WORLD
        clipped = []
        for u in unwrapped:
            c = _clip(_clip(u, w0, True), w0 + WORLD, False) if u else []
            c = [(x - k * WORLD, y) for x, y in c]
            if len(c) >= 3 and signed_area(c) != 0:
                clipped.append(c)
            elif not clipped:
                break
        if clipped:
            pieces.append(clipped)
    return pieces


def signed_area(ring: list[tuple[int, int]]) -> float:
    return 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))


def centroid(ring: list[tuple[int, int]]) -> tuple[float, float]:
    """Area-weighted planar centroid (lon, lat in units), cos(lat)-scaled to be roughly equal-area."""
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring) / SCALE)
    k = max(math.cos(lat0), 0.01)
    a = cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = (x1 * k) * y2 - (x2 * k) * y1
        a += cross
        cx += (x1 * k + x2 * k) * cross
        cy += (y1 + y2) * cross
    if a == 0:
        return ring[0][0], ring[0][1]
    return cx / (3 * a) / k, cy / (3 * a)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def cell_range(lo: float, hi: float, offset: int, n: int) -> range:
    a = min(max(math.floor(lo / SCALE) + offset, 0), n - 1)
    b = min(max(math.floor(hi / SCALE) + offset, 0), n - 1)
    return range(a, b + 1)


def grid_for_polygon(rings: list[list[tuple[int, int]]]) -> dict[int, int]:
    """cell -> flag (0/1: edges in cell, ref point outside/inside; 2: cell fully inside)."""
    edge_cells: set[int] = set()
    xs = [p[0] for p in rings[0]]
    ys = [p[1] for p in rings[0]]
    rows = cell_range(min(ys), max(ys), 90, 180)
    cols = cell_range(min(xs), max(xs), 180, 360)
    crossings: dict[int, list[float]] = collections.defaultdict(list)
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            for r in cell_range(min(y1, y2), max(y1, y2), 90, 180):
                for c in cell_range(min(x1, x2), max(x1, x2), 180, 360):
                    edge_cells.add(r * 360 + c)
                yr = (r - 90 + REF_DY) * SCALE
                if (y1 > yr) != (y2 > yr):
                    crossings[r].append(x1 + (yr - y1) * (x2 - x1) / (y2 - y1))
    out: dict[int, int] = {}
    for r in rows:
        xs_r = sorted(crossings.get(r, []))
        for c in cols:
            xr = (c - 180 + REF_DX) * SCALE
            inside = (len(xs_r) - bisect.bisect_right(xs_r, xr)) % 2 == 1
            cell = r * 360 + c
            if cell in edge_cells:
                out[cell] = int(inside)
            elif inside:
                out[cell] = 2
    return out


def region_name(code: str) -> str:
    if code in EXTRA_NAMES:
        return EXTRA_NAMES[code]
    c = pycountry.countries.get(alpha_2=code)
    assert c is not None, code
    return str(getattr(c, "common_name", None) or c.name)


def build_mcc(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for rec in records:
        if rec.get("type") != "National" or not rec.get("mcc") or not rec.get("countryCode"):
            continue
        mcc = str(rec["mcc"])
        if not mcc.isdigit() or mcc.startswith(("0", "9")):
            continue
        for part in str(rec["countryCode"]).split("/"):
            code = MCC_SUBDIVISIONS.get(part.strip(), part.strip())
            if code == "XK" or pycountry.countries.get(alpha_2=code) is not None:
                counts[mcc][code] += 1
            else:
                print(f"warning: MCC {mcc}: unknown region {code!r}")
    table = {mcc: [code for code, _ in c.most_common()] for mcc, c in counts.items()}
    table.update(MCC_OVERRIDES)
    return dict(sorted(table.items(), key=lambda kv: int(kv[0])))


def main() -> None:  # noqa: PLR0915 - a linear build recipe
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--node-modules", help="dir holding world-atlas/ and mcc-mnc-list/")
    ap.add_argument("--tolerance", type=float, default=0.002, help="Douglas-Peucker tolerance, degrees")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    nm = ensure_node_modules(args.node_modules)
    topo = json.loads((nm / "world-atlas" / "countries-10m.json").read_text())
    atlas_version = json.loads((nm / "world-atlas" / "package.json").read_text())["version"]
    mcc_pkg = json.loads((nm / "mcc-mnc-list" / "package.json").read_text())
    mcc_records = json.loads((nm / "mcc-mnc-list" / "mcc-mnc-list.json").read_text())

    arcs_q: list[list[tuple[int, int]]] = []
    for arc in decode_arcs(topo):
        simple = douglas_peucker(arc, args.tolerance)
        arcs_q.append([(round(x * SCALE), round(y * SCALE)) for x, y in simple])

    by_region: dict[str, list[list[list[tuple[int, int]]]]] = collections.defaultdict(list)

    def assign(code: str, rings: list[list[tuple[int, int]]]) -> None:
        xs = [p[0] for p in rings[0]]
        ys = [p[1] for p in rings[0]]
        mx, my = (min(xs) + max(xs)) / 2 / SCALE, (min(ys) + max(ys)) / 2 / SCALE
        for parent, child, x0, y0, x1, y1 in SPLITS:
            if code == parent and x0 <= mx <= x1 and y0 <= my <= y1:
                code = child
        by_region[code].append(rings)

    for geom in topo["objects"]["countries"]["geometries"]:
        fname = geom["properties"]["name"]
        code: str | None
        if fname in FEATURE_OVERRIDES:
            code = FEATURE_OVERRIDES[fname]
        else:
            c = pycountry.countries.get(numeric=geom.get("id") or "")
            if c is None:
                raise SystemExit(f"unmapped feature {fname!r} id={geom.get('id')!r}")
            code = c.alpha_2
        if code is None:
            continue
        polys = [geom["arcs"]] if geom["type"] == "Polygon" else geom["arcs"]
        for poly in polys:
            rings = [ring_from_arcs(r, arcs_q) for r in poly]
            rings = [r for r in rings if len(r) >= 3 and signed_area(r) != 0]
            if not rings:
                continue
            for piece in split_antimeridian(rings):
                assign(code, piece)
        if fname == "Italy":
            by_region["VA"].append([VATICAN])

    codes = sorted({c.alpha_2 for c in pycountry.countries} | set(by_region) | {"XK"})
    regions: list[dict[str, Any]] = []
    polygons: list[dict[str, Any]] = []
    areas: list[float] = []
    for idx, code in enumerate(codes):
        polys = by_region.get(code, [])
        radius = MAX_RADIUS_M
        cen: list[float] | None = None
        if polys:
            largest = max(polys, key=lambda p: abs(signed_area(p[0])))
            cx, cy = centroid(largest[0])
            lat, lon = cy / SCALE, cx / SCALE
            cen = [round(lat, 4), round(lon, 4)]
            far = max(haversine_m(lat, lon, y / SCALE, x / SCALE) for x, y in largest[0])
            radius = round(min(far, MAX_RADIUS_M), -2)
        regions.append({"code": code, "name": region_name(code), "radius_m": radius, "centroid": cen})
        for rings in polys:
            xs = [p[0] for p in rings[0]]
            ys = [p[1] for p in rings[0]]
            starts: list[int] = []
            enc: list[str] = []
            for ring in rings:
                starts += [ring[0][0], ring[0][1]]
                enc.append(encode_ring(ring))
            polygons.append(
                {
                    "region": idx,
                    "bbox": [min(xs), min(ys), max(xs), max(ys)],
                    "starts": starts,
                    "rings": enc,
                    "_r": rings,
                }
            )
            areas.append(abs(signed_area(rings[0])))

    cells: dict[int, list[tuple[float, int, int]]] = collections.defaultdict(list)
    for pi, poly in enumerate(polygons):
        for cell, flag in grid_for_polygon(poly.pop("_r")).items():
            cells[cell].append((areas[pi], pi, flag))
    grid = []
    for cell in sorted(cells):
        row: list[int] = [cell]
        for _, pi, flag in sorted(cells[cell]):  # smallest polygons (enclaves) first
            row += [pi, flag]
        grid.append(row)

    data = {
        "meta": {
            "format": 1,
            "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "builder": "scripts/build_regions.py",
            "scale": SCALE,
            "tolerance_deg": args.tolerance,
            "ref_offset": [REF_DX, REF_DY],
            "sources": {
                "borders": f"Natural Earth 1:10m admin-0 countries via npm world-atlas@{atlas_version}"
                " (countries-10m.json); public domain (package ISC)",
                "codes_names": f"PyPI pycountry {pycountry_version()} (ISO 3166-1 via Debian iso-codes);"
                " LGPL-2.1",
                "mcc": f"npm mcc-mnc-list@{mcc_pkg['version']} (Wikipedia 'Mobile country code' lists);"
                " package MIT, data CC BY-SA 4.0",
            },
        },
        "regions": regions,
        "polygons": polygons,
        "grid": grid,
        "mcc": build_mcc(mcc_records),
    }
    raw = json.dumps(data, separators=(",", ":")).encode()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(gzip.compress(raw, 9, mtime=0))
    print(
        f"{len(regions)} regions, {len(polygons)} polygons, {len(grid)} cells, "
        f"{sum(len(base64.b64decode(r)) for p in polygons for r in p['rings']) // 4} vertices; "
        f"{len(raw)} bytes raw, {args.out.stat().st_size} bytes gzipped -> {args.out}"
    )


def pycountry_version() -> str:
    from importlib.metadata import version

    return version("pycountry")


if __name__ == "__main__":
    main()
