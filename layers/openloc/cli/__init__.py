"""The `openloc` command: `openloc run` starts the embedded local stack (seeded with demo data on
first start of an empty data directory); `openloc replay --from PREFIX` re-aggregates archived
observations into the configured tables; `openloc import FILE_OR_URL` loads an MLS/OpenCellID
cell CSV into the configured tables; `openloc keys create|show|revoke` manages API keys;
`openloc offline locate --pack FILE_OR_FOLDER ...` locates from an offline pack (or its parts) and
`openloc offline build --region CC --out FILE` builds one from the tables;
`openloc jobs list|run NAME [--local|--deployed|--single]` lists the jobs or runs one by hand
(sharded in this process, on the deployed state machine, or as one single run);
`openloc import … --sharded` and `openloc replay … --sharded` run the bulk jobs in shards;
`openloc export --out FILE` writes the public cell CSV of the configured tables to a file;
`openloc transfer --to URL --key K` sends what changed since the last run to a peer instance;
`openloc site build|publish` builds the website (web/ + the npm libraries it vendors) into a
folder or uploads it to the assets bucket."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from openloc.local.stack import LocalStack

    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = LocalStack(data_dir=data_dir, port=args.port, run_scheduler=not args.no_scheduler, site=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stack.start()
    print(
        f"OpenLoc is running on {stack.url}\n"
        f"  AWS APIs (moto): {os.environ['AWS_ENDPOINT_URL']}   Redis: {os.environ.get('REDIS_URL')}\n"
        f"  data directory:  {data_dir}{'  (seeded with demo data)' if stack.seeded else ''}\n"
        f"  website:         {stack.url}/  (coverage map, downloads, statistics, API)\n"
        f"  try: curl -s -XPOST '{stack.url}/v1/geolocate?key=test' -d @docs/examples/geolocate-wifi.json\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    stop.wait()
    print("stopping…", flush=True)
    stack.stop()
    return 0


def _replay(args: argparse.Namespace) -> int:
    from openloc.ingest.pipeline import PipelineStores
    from openloc.ingest.replay import parse_location, replay
    from openloc.settings import get_settings
    from openloc.store.archive import S3Archive

    settings = get_settings()
    bucket, prefix = parse_location(args.source, settings.archive_bucket)
    if args.sharded:
        from openloc.cli.jobs import execute

        params = {"prefix": prefix, **({"bucket": bucket} if bucket != settings.archive_bucket else {})}
        return execute("replay", args.mode, {"params": params}, args.threads, args.stack, args.quiet)
    stores = PipelineStores.from_settings(settings)
    result = replay(
        S3Archive.from_settings(settings, bucket=bucket),
        prefix,
        stores,
        as_messages=args.as_messages,
        retention_days=settings.archive_retention_days,
    )
    print(
        f"replayed {result.objects} objects: {result.reports} reports, {result.invalid} invalid, "
        f"{result.skipped} already aggregated, "
        f"{result.stations_written} station writes into {settings.stations_table}; skipped "
        f"{result.expired_objects} objects and {result.expired_reports} reports older than "
        f"{settings.archive_retention_days} days (ARCHIVE_RETENTION_DAYS)"
    )
    return 0


def _site(args: argparse.Namespace) -> int:
    from openloc.settings import get_settings
    from openloc.website import basemap_from_settings, build_site, publish_site, site_files

    basemap = basemap_from_settings(get_settings())
    if args.action == "build":
        count = build_site(Path(args.out), basemap=basemap)
        print(f"built {count} files into {args.out}")
        return 0
    from openloc.store.objects import S3ObjectStore

    store = S3ObjectStore.from_settings(get_settings(), bucket=args.bucket or None)
    bucket = store.bucket
    count = publish_site(store, site_files(basemap=basemap))
    print(f"published {count} files to s3://{bucket}/")
    return 0


def _error(status: int, domain: str, reason: str, message: str) -> int:
    """Print the contract's error envelope on stderr; exit code 1 (not found) or 2 (bad input)."""
    from openloc.api.errors import error_body

    print(json.dumps(error_body(status, domain, reason, message)), file=sys.stderr)
    return 1 if status == 404 else 2


def _open_pack(path: Path, scratch: Path, index: int = 0) -> Path:
    """A `.gz` pack (as downloaded) is decompressed into `scratch` first."""
    if path.suffix != ".gz" or not path.is_file():
        return path
    plain = scratch / f"{index}-{path.with_suffix('').name}"
    with gzip.open(path, "rb") as source, plain.open("wb") as target:
        shutil.copyfileobj(source, target)
    return plain


def _pack_files(values: list[str]) -> list[Path]:
    """`--pack` values: files, or folders whose `*.sqlite` / `*.sqlite.gz` files are all used."""
    files: list[Path] = []
    for value in values:
        path = Path(value)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.name.endswith((".sqlite", ".sqlite.gz")))
            if not inside:
                raise FileNotFoundError(f"no .sqlite or .sqlite.gz pack in the folder {path}")
            files.extend(inside)
        else:
            files.append(path)
    return files


def _offline_locate(args: argparse.Namespace) -> int:
    from openloc.locate.service import locate
    from openloc.publish.offline import ScanFormatError, parse_scan
    from openloc.publish.pack import PackError, PackSet

    try:
        query = parse_scan(args.wifi, args.blue, args.cell, lacf=not args.no_lacf)
    except ScanFormatError as error:
        return _error(400, "global", "parseError", f"Parse Error: {error}")
    with tempfile.TemporaryDirectory(prefix="openloc-pack-") as scratch:
        try:
            files = _pack_files(args.pack)
            packs = PackSet.open([_open_pack(path, Path(scratch), i) for i, path in enumerate(files)])
        except (PackError, OSError, gzip.BadGzipFile) as error:
            return _error(400, "global", "parseError", f"Unusable pack: {error}")
        for (region, created), numbers in packs.missing_parts().items():
            listed = ", ".join(str(n) for n in numbers)
            note = f"note: pack {region} of {created}: part(s) {listed} not given, their stations are unknown"
            print(note, file=sys.stderr)
        try:
            estimate = locate(packs, query)
        finally:
            packs.close()
    if estimate is None:
        return _error(404, "geolocation", "notFound", "Not found")
    answer: dict[str, object] = {
        "location": {"lat": round(estimate.lat, 7), "lng": round(estimate.lon, 7)},
        "accuracy": round(estimate.accuracy, 1),
    }
    if estimate.fallback is not None:
        answer["fallback"] = estimate.fallback
    print(json.dumps(answer))
    return 0


def _offline_build(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from openloc.jobs.station_publish import policy
    from openloc.jobs.stores import JobStores
    from openloc.publish.dumps import build_region_pack
    from openloc.publish.offline import UnknownPackRegion, pack_region
    from openloc.settings import get_settings

    try:
        region = pack_region(args.region)
    except UnknownPackRegion as error:
        return _error(404, "global", "notFound", f"No pack for this region: {error}")
    stores = JobStores.from_settings(get_settings())
    stations = stores.stations
    rows = build_region_pack(
        region,
        stations.scan_stations(),
        stations.scan_areas(),
        Path(args.out),
        datetime.now(UTC),
        policy(stores),
    )
    print(f"wrote {args.out}: pack {region}, {rows} rows")
    return 0


def upload_for_import(source: str, quiet: bool) -> str:
    """Copy a cell CSV (path, URL or s3://; gzip or plain) uncompressed into the private bucket,
    where the shards of a sharded import read it by byte range; its key."""
    from datetime import UTC, datetime

    from openloc.ingest.cell_import import decompressed
    from openloc.jobs.bulk_import import UPLOADS_PREFIX
    from openloc.settings import get_settings
    from openloc.store.objects import S3ObjectStore, open_location

    settings = get_settings()
    state = S3ObjectStore.from_settings(settings, bucket=settings.archive_bucket)
    name = os.path.basename(source.rstrip("/")).removesuffix(".gz").removesuffix(".csv") or "cells"
    key = f"{UPLOADS_PREFIX}{datetime.now(UTC):%Y%m%dT%H%M%S}-{name}.csv"
    raw, size = open_location(source)
    out = None if quiet else sys.stderr
    try:
        binary, counting = decompressed(raw)
        with state.writer(key, "text/csv", "no-store") as upload:
            for chunk in iter(lambda: binary.read(8 << 20), b""):
                upload.write(chunk)
                if out is not None:
                    total = f" of {size / 1e6:,.1f}" if size else ""
                    out.write(
                        f"\ruploading s3://{state.bucket}/{key}: {counting.count / 1e6:,.1f}{total} MB read"
                    )
    finally:
        raw.close()
    if out is not None:
        out.write("\n")
    return key


def _import(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from openloc.ingest.cell_import import ImportFormatError, import_cells
    from openloc.settings import get_settings
    from openloc.store.objects import open_location
    from openloc.store.stations import DynamoStationStore

    if args.sharded:
        from openloc.cli.jobs import execute

        key = upload_for_import(args.source, args.quiet)
        return execute(
            "cell_import", args.mode, {"params": {"key": key}}, args.threads, args.stack, args.quiet
        )
    settings = get_settings()
    store = DynamoStationStore.from_settings(settings)
    store.bulk_load_mode()
    raw, size = open_location(args.source)
    try:
        result = import_cells(
            raw,
            store,
            datetime.now(UTC),
            total_bytes=size,
            batch_size=args.batch_size,
            workers=args.workers,
            out=None if args.quiet else sys.stderr,
        )
    except ImportFormatError as error:
        print(f"openloc import: {error}", file=sys.stderr)
        return 2
    finally:
        raw.close()
    print(
        f"imported {result.imported} of {result.rows} rows into {settings.stations_table}; "
        f"{result.invalid_total} invalid; {result.areas_updated} cell areas updated, "
        f"{result.areas_deleted} removed"
    )
    for reason, count in result.invalid.most_common():
        print(f"  invalid {reason}: {count}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from openloc.cli.jobs import add_mode_arguments

    parser = argparse.ArgumentParser(prog="openloc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the embedded local stack")
    run.add_argument("--port", type=int, default=int(os.environ.get("OPENLOC_PORT", "8000")))
    run.add_argument("--data-dir", default=os.environ.get("OPENLOC_DATA_DIR", ".openloc-data"))
    run.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs")
    run.set_defaults(func=_run)
    replay = commands.add_parser(
        "replay",
        help="re-aggregate archived observations into the configured tables (AWS_ENDPOINT_URL, *_TABLE)",
    )
    replay.add_argument(
        "--from", dest="source", required=True, help="s3://bucket/prefix, or a prefix of ARCHIVE_BUCKET"
    )
    replay.add_argument(
        "--as-messages",
        action="store_true",
        help="treat each object as the SQS message it archived: skip messages already aggregated and "
        "apply a partially applied (dead-lettered) one only where it is missing; safe on the live tables",
    )
    replay.add_argument(
        "--sharded",
        action="store_true",
        help="run as the sharded replay job: shards of archive objects (as messages) in this process "
        "(--local, default) or on the deployed state machine (--deployed)",
    )
    add_mode_arguments(replay, single=False)
    replay.set_defaults(func=_replay)
    offline = commands.add_parser("offline", help="offline packs: locate from one, or build one")
    offline_commands = offline.add_subparsers(dest="offline_command", required=True)
    locate = offline_commands.add_parser(
        "locate", help="locate from an offline pack with the service's engine (prints geolocate JSON)"
    )
    locate.add_argument(
        "--pack",
        required=True,
        action="append",
        help="pack file (.sqlite, or .sqlite.gz as downloaded), or a folder of them; repeat for the "
        "parts of a split region (or packs of several regions)",
    )
    locate.add_argument(
        "--wifi", action="append", default=[], help="MAC,SSID[,SIGNAL] or v1:<hex>[,SIGNAL]; repeat"
    )
    locate.add_argument(
        "--blue", action="append", default=[], help="MAC,NAME[,SIGNAL] or v1:<hex>[,SIGNAL]; repeat"
    )
    locate.add_argument("--cell", action="append", default=[], help="RADIO,MCC,MNC,LAC,CID[,SIGNAL]; repeat")
    locate.add_argument("--no-lacf", action="store_true", help="no cell-area fallback")
    locate.set_defaults(func=_offline_locate)
    build = offline_commands.add_parser(
        "build", help="build one region's pack from the configured tables (AWS_ENDPOINT_URL, *_TABLE)"
    )
    build.add_argument("--region", required=True, help="ISO 3166 alpha-2 code (DE) or mcc-NNN (mcc-262)")
    build.add_argument("--out", required=True, help="output .sqlite file")
    build.set_defaults(func=_offline_build)
    load = commands.add_parser(
        "import",
        help="load an MLS/OpenCellID cell CSV (.csv or .csv.gz; path, http(s) URL or s3://) into the "
        "configured tables (AWS_ENDPOINT_URL, STATIONS_TABLE, CELL_AREAS_TABLE)",
    )
    load.add_argument("source", metavar="FILE_OR_URL")
    load.add_argument("--batch-size", type=int, default=500, help="rows per write batch (default 500)")
    load.add_argument("--workers", type=int, default=4, help="parallel write threads (default 4)")
    load.add_argument(
        "--sharded",
        action="store_true",
        help="upload the file (uncompressed) to ARCHIVE_BUCKET and run the sharded import job: byte ranges "
        "written by parallel shards, then the cell areas (--local, default, or --deployed)",
    )
    add_mode_arguments(load, single=False)
    load.set_defaults(func=_import)

    site = commands.add_parser(
        "site", help="build the website into a folder, or publish it to the assets bucket (ASSETS_BUCKET)"
    )
    site.add_argument("action", choices=["build", "publish"])
    site.add_argument("--out", default="build/site", help="folder for `build` (default build/site)")
    site.add_argument("--bucket", default="", help="bucket for `publish` (default ASSETS_BUCKET)")
    site.set_defaults(func=_site)
    from openloc.cli.export import add_parser as add_export_parser
    from openloc.cli.jobs import add_parser as add_jobs_parser
    from openloc.cli.keys import add_parser as add_keys_parser
    from openloc.cli.transfer import add_parser as add_transfer_parser

    add_keys_parser(commands)
    add_jobs_parser(commands)
    add_export_parser(commands)
    add_transfer_parser(commands)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
