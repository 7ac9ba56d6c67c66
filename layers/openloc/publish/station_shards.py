"""The dumps and offline packs built in shards, with packs (and SQLite dumps) split into parts.

Same files, same privacy rules (`publish.policy`) as `publish.dumps.build_publications`, but
built by many workers (`openloc.jobs.station_publish.SHARDED`) so neither the table nor a dense
country has to fit one process:

1. **scan** (one shard per parallel Scan segment of the stations and cell-areas tables): every
   published row is routed to its output groups — (`wifi`|`blue`, region) and (`wifi`|`blue`,
   `world`) for the dumps, (`pack`, country) and (`pack`, `mcc-NNN`) for the packs — and within
   a group to its 1° grid cell. The shard writes one object: per (group, cell) bucket, in
   bucket order, a gzip member of text rows; its index (bucket code, offset, length, rows) goes
   next to it as a `.npy` array. Cell areas go to the pack groups in a bucket of their own.
2. **build** (one shard per output part): the plan adds up the rows per bucket over every scan
   shard and cuts each group into parts of at most `PACK_PART_ROWS` rows, walking its grid
   cells in Hilbert-curve order (so a part is a compact area); a grid cell alone over the budget
   is cut into equal slices of its rows. Because buckets are stored in order, a part is one byte
   range of each scan object. The shard reads those ranges, writes the part's SQLite file
   (gzipped, to its public key) and, for a dump, the part's CSV rows as a gzip member.
3. **files** (one shard per batch of CSV dumps): each CSV dump is composed in S3 from a header
   member and its parts' members; the finish lists every file in `downloads.json` once and
   deletes the generations it no longer lists.

Parts (the contract `GET /v1/offline/{region}` and the offline engine read): a group with one
part keeps the single-file name (`openloc-pack-DE.sqlite.gz`), otherwise part p of N is
`openloc-pack-DE-<p>of<N>.sqlite.gz` (dumps alike: `openloc-wifi-DE-2of5.sqlite.gz`). Every part is
a complete pack file with the meta keys `part`, `parts` and `bbox` (JSON `[west, south, east,
north]` of the rows it holds), and is one `downloads.json` entry with the same three fields. A
pack part holds all of its region's cell areas; a station or cell is in exactly one part.
`PACK_PART_ROWS` (2 M rows ≈ 85 MB at the measured ~43 bytes a row) keeps parts under 100 MB.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from openloc.model.keys import key_kind
from openloc.model.kinds import MAC_KINDS, FileKind, StationKind
from openloc.model.records import StationRecord
from openloc.publish.dumps import CONTENT_TYPES, CSV_HEADER, WORLD, csv_row, temporary_workdir
from openloc.publish.manifest import DownloadFile
from openloc.publish.pack import PackWriter
from openloc.publish.policy import (
    PublishedArea,
    PublishedCell,
    PublishedStation,
    PublishPolicy,
    published_area,
    published_cell,
    published_station,
)
from openloc.store.objects import ObjectStore, Piece

PACK = "pack"
FAMILIES = (PACK, StationKind.WIFI.value, StationKind.BLUE.value)
AREA_CELL = -1  # the bucket of a pack group's cell areas (sorts before every grid cell)
HILBERT_SIDE = 512  # 1° cells (360 × 180) on a 512 × 512 Hilbert curve
CELL_SPAN = HILBERT_SIDE * HILBERT_SIDE + 1  # grid cell codes + the area bucket
REGION_SPAN = 2048
DEFAULT_PART_ROWS = 2_000_000
PUBLIC_CACHE = "public, max-age=86400"
PRIVATE = "no-store"
IntArray = npt.NDArray[np.int64]


# -- buckets -------------------------------------------------------------------------------------


def hilbert_index(x: int, y: int, side: int = HILBERT_SIDE) -> int:
    """Position of (x, y) along the Hilbert curve filling a `side` × `side` grid."""
    d = 0
    s = side // 2
    while s > 0:
        rx = 1 if x & s else 0
        ry = 1 if y & s else 0
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:
            if rx == 1:
                x, y = s - 1 - x, s - 1 - y
            x, y = y, x
        s //= 2
    return d


def grid_cell(lat: float, lon: float) -> int:
    """The 1° grid cell of a position, numbered along the Hilbert curve."""
    x = min(max(math.floor(lon) + 180, 0), 359)
    y = min(max(math.floor(lat) + 90, 0), 179)
    return hilbert_index(x, y)


def region_code(region: str) -> int:
    """A stable number for an output region: `world`, an ISO 3166 alpha-2 code or `mcc-NNN`."""
    if region == WORLD:
        return 0
    if len(region) == 2 and region.isascii() and region.isalpha() and region.isupper():
        return 1 + (ord(region[0]) - 65) * 26 + (ord(region[1]) - 65)
    if region.startswith("mcc-") and region[4:].isdigit() and int(region[4:]) < 1000:
        return 1000 + int(region[4:])
    raise ValueError(f"not an output region: {region!r}")


def region_name(code: int) -> str:
    if code == 0:
        return WORLD
    if code >= 1000:
        return f"mcc-{code - 1000}"
    first, second = divmod(code - 1, 26)
    return chr(65 + first) + chr(65 + second)


def bucket_code(family: str, region: str, cell: int) -> int:
    return (FAMILIES.index(family) * REGION_SPAN + region_code(region)) * CELL_SPAN + cell + 1


def split_code(code: int) -> tuple[str, str, int]:
    group, cell = divmod(int(code), CELL_SPAN)
    family, region = divmod(group, REGION_SPAN)
    return FAMILIES[family], region_name(region), cell - 1


def group_code(family: str, region: str) -> int:
    return bucket_code(family, region, AREA_CELL) // CELL_SPAN


# -- text rows between the stages ----------------------------------------------------------------


def station_line(station: PublishedStation) -> str:
    return (
        f"s,{station.kind},{station.digest},{station.lat!r},{station.lon!r},{station.radius},"
        f"{station.samples},{station.reach},{station.loudest},{station.breadth},{station.offset},"
        f"{station.misfit}"
    )


def cell_line(cell: PublishedCell) -> str:
    return (
        f"c,{cell.radio},{cell.mcc},{cell.mnc},{cell.lac},{cell.cid},{cell.lat!r},{cell.lon!r},"
        f"{cell.radius},{cell.samples}"
    )


def area_line(area: PublishedArea) -> str:
    return (
        f"a,{area.radio},{area.mcc},{area.mnc},{area.lac},{area.lat!r},{area.lon!r},{area.radius},"
        f"{area.num_cells},{area.cell_radius}"
    )


Row = PublishedStation | PublishedCell | PublishedArea


def parse_line(line: str) -> Row:
    fields = line.split(",")
    if fields[0] == "s":
        # (a row written before `loudest` or the footprint's shape existed has fewer fields: unknown)
        kind, digest, lat, lon, radius, samples, reach, *later = fields[1:]
        loudest, breadth, offset, misfit = (int(value) for value in (*later, "0", "0", "0", "0")[:4])
        return PublishedStation(
            StationKind(kind),
            digest,
            float(lat),
            float(lon),
            int(radius),
            int(samples),
            None,
            int(reach),
            loudest,
            breadth,
            offset,
            misfit,
        )
    if fields[0] == "c":
        radio, mcc, mnc, lac, cid, lat, lon, radius, samples = fields[1:]
        return PublishedCell(
            radio, int(mcc), mnc, int(lac), int(cid), float(lat), float(lon), int(radius), int(samples), None
        )
    radio, mcc, mnc, lac, lat, lon, radius, cells, cell_radius = fields[1:]
    return PublishedArea(
        radio,
        int(mcc),
        mnc,
        int(lac),
        float(lat),
        float(lon),
        int(radius),
        int(cells),
        None,
        int(cell_radius),
    )


# -- scan -------------------------------------------------------------------------------------------


def route(
    stations: Iterable[StationRecord], areas: Iterable[StationRecord], today: date, policy: PublishPolicy
) -> dict[int, list[str]]:
    """Every published row of the given records, by bucket code (a row shared by several groups
    is one string referenced from each of their buckets)."""
    buckets: dict[int, list[str]] = defaultdict(list)
    for record in stations:
        kind = key_kind(record.key)
        if kind in MAC_KINDS:
            station = published_station(record, today, policy)
            if station is None:
                continue
            line = station_line(station)
            cell = grid_cell(station.lat, station.lon)
            buckets[bucket_code(station.kind, WORLD, cell)].append(line)
            if station.region is not None:
                buckets[bucket_code(station.kind, station.region, cell)].append(line)
                buckets[bucket_code(PACK, station.region, cell)].append(line)
        elif kind is StationKind.CELL:
            published = published_cell(record, policy.cell_min_samples)
            if published is None:
                continue
            line = cell_line(published)
            cell = grid_cell(published.lat, published.lon)
            buckets[bucket_code(PACK, f"mcc-{published.mcc}", cell)].append(line)
            if published.region is not None:
                buckets[bucket_code(PACK, published.region, cell)].append(line)
    for record in areas:
        area = published_area(record)
        if area is None:
            continue
        line = area_line(area)
        buckets[bucket_code(PACK, f"mcc-{area.mcc}", AREA_CELL)].append(line)
        if area.region is not None:
            buckets[bucket_code(PACK, area.region, AREA_CELL)].append(line)
    return buckets


def encode_index(index: IntArray) -> bytes:
    import io

    out = io.BytesIO()
    np.save(out, index, allow_pickle=False)
    return out.getvalue()


def decode_index(blob: bytes) -> IntArray:
    import io

    index: IntArray = np.load(io.BytesIO(blob), allow_pickle=False).reshape(-1, 4)
    return index


def write_buckets(store: ObjectStore, key: str, buckets: dict[int, list[str]]) -> IntArray:
    """One object of gzip members, one per bucket in code order; its index rows are
    (code, offset, length, rows)."""
    rows: list[tuple[int, int, int, int]] = []
    offset = 0
    with store.writer(key, "application/gzip", PRIVATE) as out:
        for code in sorted(buckets):
            lines = buckets[code]
            member = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1, mtime=0)
            out.write(member)
            rows.append((code, offset, len(member), len(lines)))
            offset += len(member)
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


# -- build plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartPlan:
    family: str
    region: str
    part: int
    parts: int
    low: int | None  # first and last grid cell of the part (None: only the group's cell areas)
    high: int | None
    slice: tuple[int, int] | None  # (k, n): the k-th of n equal slices of one oversized cell
    rows: int

    def item(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "region": self.region,
            "part": self.part,
            "parts": self.parts,
            "low": self.low,
            "high": self.high,
            "slice": list(self.slice) if self.slice else None,
            "rows": self.rows,
        }


def bucket_totals(indexes: Iterable[IntArray]) -> tuple[IntArray, IntArray]:
    """(codes, rows) summed over every scan shard's index, codes sorted."""
    codes: IntArray = np.zeros(0, dtype=np.int64)
    rows: IntArray = np.zeros(0, dtype=np.int64)
    for index in indexes:
        merged = np.concatenate([codes, index[:, 0]])
        counts = np.concatenate([rows, index[:, 3]])
        codes, inverse = np.unique(merged, return_inverse=True)
        rows = np.bincount(inverse, weights=counts, minlength=codes.size).astype(np.int64)
    return codes, rows


def plan_parts(codes: IntArray, rows: IntArray, budget: int) -> list[PartPlan]:
    """Cut each output group into parts of at most `budget` rows along its grid cells' order."""
    groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for code, count in zip(codes.tolist(), rows.tolist(), strict=True):
        group, cell = divmod(code, CELL_SPAN)
        groups[group].append((cell - 1, count))
    plans: list[PartPlan] = []
    for group in sorted(groups):
        family, region, _ = split_code(group * CELL_SPAN)
        chunks: list[tuple[int | None, int | None, tuple[int, int] | None, int]] = []
        low: int | None = None
        high: int | None = None
        pending = 0
        for cell, count in groups[group]:
            if cell == AREA_CELL:
                continue
            if count > budget:
                if low is not None:
                    chunks.append((low, high, None, pending))
                    low, high, pending = None, None, 0
                slices = math.ceil(count / budget)
                chunks.extend((cell, cell, (k, slices), count // slices) for k in range(slices))
                continue
            if low is not None and pending + count > budget:
                chunks.append((low, high, None, pending))
                low, pending = None, 0
            low = cell if low is None else low
            high = cell
            pending += count
        if low is not None:
            chunks.append((low, high, None, pending))
        if not chunks:  # a pack of cell areas only
            chunks.append((None, None, None, 0))
        for number, (first, last, cut, count) in enumerate(chunks, start=1):
            plans.append(PartPlan(family, region, number, len(chunks), first, last, cut, count))
    return plans


def part_ranges(plan: PartPlan, index: IntArray) -> tuple[list[int], list[int]]:
    """The byte ranges [start, end) of one scan object holding the part's rows and (for a pack)
    its region's cell areas; empty lists when the shard has none."""
    codes = index[:, 0]
    ends = index[:, 1] + index[:, 2]

    def span(first: int, last: int) -> list[int]:
        lo = int(np.searchsorted(codes, first, side="left"))
        hi = int(np.searchsorted(codes, last, side="right"))
        return [int(index[lo, 1]), int(ends[hi - 1])] if hi > lo else []

    rows = (
        span(
            bucket_code(plan.family, plan.region, plan.low), bucket_code(plan.family, plan.region, plan.high)
        )
        if plan.low is not None and plan.high is not None
        else []
    )
    area = bucket_code(plan.family, plan.region, AREA_CELL)
    areas = span(area, area) if plan.family == PACK else []
    return rows, areas


# -- build --------------------------------------------------------------------------------------


def part_name(stem: str, part: int, parts: int, extension: str) -> str:
    return f"{stem}.{extension}" if parts == 1 else f"{stem}-{part}of{parts}.{extension}"


def file_key(family: str, region: str, day: str, part: int, parts: int, extension: str) -> str:
    if family == PACK:
        return f"exports/offline/{day}/" + part_name(f"openloc-pack-{region}", part, parts, extension)
    return f"exports/stations/{family}/{day}/" + part_name(
        f"openloc-{family}-{region}", part, parts, extension
    )


def read_lines(store: ObjectStore, pieces: Iterable[Piece]) -> Iterator[str]:
    for piece in pieces:
        start, end = piece.bounds()
        text = gzip.decompress(store.get_range(piece.key, start, end)).decode()
        yield from (line for line in text.split("\n") if line)


class _Bounds:
    def __init__(self) -> None:
        self.west = self.south = math.inf
        self.east = self.north = -math.inf

    def add(self, lat: float, lon: float) -> None:
        self.west, self.east = min(self.west, lon), max(self.east, lon)
        self.south, self.north = min(self.south, lat), max(self.north, lat)

    def box(self) -> list[float] | None:
        return None if self.west == math.inf else [self.west, self.south, self.east, self.north]


@dataclass(frozen=True)
class BuiltPart:
    entry: DownloadFile
    csv_key: str | None  # the part's CSV rows as a gzip member (dumps only)
    csv_size: int
    csv_rows: int


def build_part(
    plan: PartPlan,
    lines: Iterable[str],
    area_lines: Iterable[str],
    assets: ObjectStore,
    scratch: ObjectStore,
    csv_key: str,
    now: datetime,
) -> BuiltPart:
    """Write one part's SQLite file to its public key (and, for a dump, its CSV member to
    `csv_key` in `scratch`)."""
    rows: Iterable[str] = lines
    if plan.slice is not None:  # the k-th of n equal slices of one oversized grid cell's rows
        k, n = plan.slice
        ordered = sorted(lines)
        size, extra = divmod(len(ordered), n)
        start = k * size + min(k, extra)
        rows = ordered[start : start + size + (1 if k < extra else 0)]
    kind = FileKind.OFFLINE_PACK if plan.family == PACK else FileKind.dump(StationKind(plan.family))
    day = now.strftime("%Y-%m-%d")
    key = file_key(plan.family, plan.region, day, plan.part, plan.parts, "sqlite.gz")
    bounds = _Bounds()
    # The part's CSV rows, compressed as they come (a gzip member): rows are never all in memory.
    csv_member = bytearray()
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    csv_rows = 0
    with temporary_workdir() as work:
        path = Path(work) / "part.sqlite"
        writer = PackWriter(path, plan.region, kind, now)
        for line in rows:
            row = parse_line(line)
            if isinstance(row, PublishedStation):
                writer.add_station(row)
                if plan.family != PACK:
                    csv_member += compressor.compress(csv_row(row).encode())
                    csv_rows += 1
            elif isinstance(row, PublishedCell):
                writer.add_cell(row)
            bounds.add(row.lat, row.lon)
        area_bounds = _Bounds()
        for line in area_lines:
            area = parse_line(line)
            if isinstance(area, PublishedArea):
                writer.add_area(area)
                area_bounds.add(area.lat, area.lon)
        box = bounds.box() or area_bounds.box()
        writer.meta |= {"part": str(plan.part), "parts": str(plan.parts), "bbox": json.dumps(box)}
        writer.close()
        gz_path = path.with_name("part.sqlite.gz")
        with path.open("rb") as source, gzip.open(gz_path, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target)
        stored = assets.put_file(key, gz_path, CONTENT_TYPES["sqlite.gz"], PUBLIC_CACHE)
    count = sum(writer.rows.values()) if plan.family == PACK else writer.rows[plan.family]
    entry = DownloadFile.model_validate(
        {
            "kind": kind,
            "path": key,
            "region": plan.region,
            "format": "sqlite.gz",
            "size": stored.size,
            "rows": count,
            "sha256": stored.sha256,
            "created": now,
            "part": plan.part,
            "parts": plan.parts,
            "bbox": box,
        }
    )
    if plan.family == PACK:
        return BuiltPart(entry, None, 0, 0)
    csv_member += compressor.flush()
    scratch.put(csv_key, bytes(csv_member), "application/gzip", PRIVATE)
    return BuiltPart(entry, csv_key, len(csv_member), csv_rows)


def compose_csv(
    assets: ObjectStore,
    scratch: ObjectStore,
    family: str,
    region: str,
    members: Sequence[tuple[str, int, int]],
    header_key: str,
    now: datetime,
) -> DownloadFile:
    """One CSV dump from its parts' members (key, size, rows), after the header member."""
    key = file_key(family, region, now.strftime("%Y-%m-%d"), 1, 1, "csv.gz")
    pieces = [Piece(scratch, header_key), *(Piece(scratch, k, 0, size) for k, size, _ in members)]
    uploaded = assets.compose(key, pieces, CONTENT_TYPES["csv.gz"], PUBLIC_CACHE)
    return DownloadFile(
        kind=FileKind.dump(StationKind(family)),
        path=key,
        region=region,
        format="csv.gz",
        size=uploaded.size,
        rows=sum(rows for _, _, rows in members),
        sha256=uploaded.sha256,
        created=now,
    )


def csv_header_member(now: datetime) -> bytes:
    return gzip.compress(CSV_HEADER.encode(), compresslevel=6, mtime=int(now.timestamp()))
