"""Build the public station dumps and the offline packs from one pass over the tables.

Files (all under the output directory, named as their S3 keys below `exports/`):

- Wi-Fi dump, per country and for the world: `stations/wifi/<date>/openloc-wifi-<region>.csv.gz`
  (gzipped CSV, header `id,lat,lon,radius,samples`) and `…/openloc-wifi-<region>.sqlite.gz` (the
  pack schema of `openloc.publish.pack` holding only the `wifi` table); the same for Bluetooth
  (`stations/blue/…/openloc-blue-<region>…`).
- Offline packs: `offline/<date>/openloc-pack-<CC>.sqlite.gz` per country (its cells, cell areas,
  Wi-Fi and Bluetooth stations) and `offline/<date>/openloc-pack-mcc-<MCC>.sqlite.gz` per mobile
  country code (its cells and cell areas).

Which stations appear, and at what precision, is decided by `openloc.publish.policy`. The pass is
streaming: rows go straight into per-file writers, so memory does not grow with the table.
`publish_files` uploads a build, lists it in `downloads.json` and deletes older generations.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from openloc.model.keys import key_kind
from openloc.model.kinds import MAC_KINDS, FileKind, StationKind
from openloc.model.records import StationRecord
from openloc.publish.manifest import (
    DEFAULT_RETENTION,
    DownloadFile,
    Retention,
    delete_dropped,
    update_manifest,
)
from openloc.publish.pack import PackWriter
from openloc.publish.policy import (
    POSITION_DECIMALS,
    PublishedStation,
    PublishPolicy,
    published_area,
    published_cell,
    published_station,
)
from openloc.store.objects import ObjectStore

CSV_HEADER = "id,lat,lon,radius,samples\n"
WORLD = "world"


@dataclass(frozen=True)
class BuiltFile:
    kind: FileKind
    region: str  # "world", an ISO 3166 alpha-2 code, or "mcc-262"
    key: str  # object key in the assets bucket
    path: Path  # the gzipped file on disk
    format: str  # csv.gz or sqlite.gz
    rows: int


def csv_row(station: PublishedStation) -> str:
    decimals = POSITION_DECIMALS[station.kind]
    return (
        f"{station.station_id},{station.lat:.{decimals}f},{station.lon:.{decimals}f},"
        f"{station.radius},{station.samples}\n"
    )


class _Files:
    """The open writers of one build, created on first use."""

    def __init__(self, work: Path, now: datetime) -> None:
        self.work = work
        self.now = now
        self.date = now.strftime("%Y-%m-%d")
        self.csv: dict[tuple[str, str], tuple[IO[str], list[int]]] = {}
        self.packs: dict[tuple[str, str], PackWriter] = {}

    def _raw(self, key: str) -> Path:
        path = self.work / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def dump_key(self, kind: str, region: str, extension: str) -> str:
        return f"exports/stations/{kind}/{self.date}/openloc-{kind}-{region}.{extension}"

    def pack_key(self, region: str) -> str:
        return f"exports/offline/{self.date}/openloc-pack-{region}.sqlite"

    def add_station(self, station: PublishedStation) -> None:
        regions = [WORLD] if station.region is None else [WORLD, station.region]
        for region in regions:
            handle = self.csv.get((station.kind, region))
            if handle is None:
                path = self._raw(self.dump_key(station.kind, region, "csv.gz"))
                stream = gzip.open(path, "wt", newline="")  # noqa: SIM115 (closed in close())
                stream.write(CSV_HEADER)
                handle = self.csv[(station.kind, region)] = (stream, [0])
            handle[0].write(csv_row(station))
            handle[1][0] += 1
            self.pack(("dump", f"{station.kind}:{region}")).add_station(station)
        if station.region is not None:
            self.pack(("pack", station.region)).add_station(station)

    def pack(self, name: tuple[str, str]) -> PackWriter:
        writer = self.packs.get(name)
        if writer is None:
            role, region = name
            if role == "dump":
                kind, _, dump_region = region.partition(":")
                key = self.dump_key(kind, dump_region, "sqlite")
                writer = PackWriter(self._raw(key), dump_region, FileKind.dump(StationKind(kind)), self.now)
            else:
                writer = PackWriter(self._raw(self.pack_key(region)), region, FileKind.OFFLINE_PACK, self.now)
            self.packs[name] = writer
        return writer

    def close(self) -> list[BuiltFile]:
        built = []
        for (kind, region), (stream, rows) in sorted(self.csv.items()):
            stream.close()
            key = self.dump_key(kind, region, "csv.gz")
            built.append(
                BuiltFile(FileKind.dump(StationKind(kind)), region, key, self.work / key, "csv.gz", rows[0])
            )
        for (role, name), writer in sorted(self.packs.items()):
            path = writer.close()
            gz_path = path.with_name(path.name + ".gz")
            with path.open("rb") as source, gzip.open(gz_path, "wb", compresslevel=6) as target:
                shutil.copyfileobj(source, target)
            path.unlink()
            key = str(gz_path.relative_to(self.work))
            if role == "dump":
                kind, _, region = name.partition(":")
                built.append(
                    BuiltFile(
                        FileKind.dump(StationKind(kind)), region, key, gz_path, "sqlite.gz", writer.rows[kind]
                    )
                )
            else:
                built.append(
                    BuiltFile(
                        FileKind.OFFLINE_PACK, name, key, gz_path, "sqlite.gz", sum(writer.rows.values())
                    )
                )
        return built


def build_publications(
    stations: Iterable[StationRecord],
    areas: Iterable[StationRecord],
    work: Path,
    now: datetime,
    policy: PublishPolicy,
) -> list[BuiltFile]:
    """Write every dump and pack for the given table contents into `work`; the files built."""
    files = _Files(work, now)
    today = now.date()
    for record in stations:
        kind = key_kind(record.key)
        if kind in MAC_KINDS:
            station = published_station(record, today, policy)
            if station is not None:
                files.add_station(station)
        elif kind is StationKind.CELL:
            cell = published_cell(record, policy.cell_min_samples)
            if cell is not None:
                files.pack(("pack", f"mcc-{cell.mcc}")).add_cell(cell)
                if cell.region is not None:
                    files.pack(("pack", cell.region)).add_cell(cell)
    for record in areas:
        area = published_area(record)
        if area is not None:
            files.pack(("pack", f"mcc-{area.mcc}")).add_area(area)
            if area.region is not None:
                files.pack(("pack", area.region)).add_area(area)
    return files.close()


def temporary_workdir() -> tempfile.TemporaryDirectory[str]:
    """Scratch space for one build (Lambda: /tmp, up to its configured ephemeral storage)."""
    return tempfile.TemporaryDirectory(prefix="openloc-publish-")


def build_region_pack(
    region: str,
    stations: Iterable[StationRecord],
    areas: Iterable[StationRecord],
    out: Path,
    now: datetime,
    policy: PublishPolicy,
) -> int:
    """One offline pack (uncompressed) for a country (`DE`) or an MCC (`mcc-262`); rows written."""
    mcc = int(region.removeprefix("mcc-")) if region.startswith("mcc-") else None
    writer = PackWriter(out, region, FileKind.OFFLINE_PACK, now)
    today = now.date()
    for record in stations:
        kind = key_kind(record.key)
        if kind in MAC_KINDS and mcc is None and record.region == region:
            station = published_station(record, today, policy)
            if station is not None:
                writer.add_station(station)
        elif kind is StationKind.CELL:
            cell = published_cell(record, policy.cell_min_samples)
            if cell is not None and (cell.mcc == mcc if mcc is not None else cell.region == region):
                writer.add_cell(cell)
    for record in areas:
        area = published_area(record)
        if area is not None and (area.mcc == mcc if mcc is not None else area.region == region):
            writer.add_area(area)
    writer.close()
    return sum(writer.rows.values())


CONTENT_TYPES = {"csv.gz": "text/csv", "sqlite.gz": "application/vnd.sqlite3"}
# Published dumps and packs stay listed (and stored) for two generations: a client that read the
# previous manifest can still fetch its file, and a station withdrawn by its owner is gone from
# every listed file one publication after the one that first left it out (docs/privacy.md).
KEEP_GENERATIONS = 2


def upload(assets: ObjectStore, built: BuiltFile, now: datetime) -> DownloadFile:
    """Upload one built file (stored gzip-compressed as downloaded) and describe it for the manifest."""
    stored = assets.put_file(built.key, built.path, CONTENT_TYPES[built.format], "public, max-age=86400")
    return DownloadFile(
        kind=built.kind,
        path=built.key,
        region=built.region,
        format=built.format,
        size=stored.size,
        rows=built.rows,
        sha256=stored.sha256,
        created=now,
    )


@dataclass(frozen=True)
class PublicationResult:
    files: list[DownloadFile]
    deleted: int  # objects of older generations removed from the bucket


PUBLISHED_KINDS = (FileKind.WIFI_DUMP, FileKind.BLUE_DUMP, FileKind.OFFLINE_PACK)
# The manifest keeps the files of the newest generations per (kind, region): a dump generation is
# its CSV and its SQLite file(s), a pack generation its N parts (2N entries for two generations).
RETENTION = dict(DEFAULT_RETENTION) | {
    kind: Retention(keep_generations=KEEP_GENERATIONS)
    for kind in (FileKind.WIFI_DUMP, FileKind.BLUE_DUMP, FileKind.OFFLINE_PACK)
}


def run_publication(
    assets: ObjectStore,
    stations: Iterable[StationRecord],
    areas: Iterable[StationRecord],
    now: datetime,
    policy: PublishPolicy,
) -> PublicationResult:
    """Build every dump and pack, upload them, list them in `downloads.json`, and delete the
    objects of generations the manifest no longer lists."""
    with temporary_workdir() as work:
        built = build_publications(stations, areas, Path(work), now, policy)
        files = [upload(assets, file, now) for file in built]
    update = update_manifest(assets, files, now=now, retention=RETENTION)
    ours = [f for f in update.dropped if f.kind in PUBLISHED_KINDS]
    return PublicationResult(files, delete_dropped(assets, ours))
