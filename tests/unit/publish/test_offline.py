"""Offline packs answer like the online service: held-out queries of the simulated world
(bench/world), located by `/v1/geolocate` (raw MACs and hashed identifiers) and by
`openloc offline locate` on a pack built from the same tables."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openloc.api.schemas import GeosubmitRequest
from openloc.api.services import Services
from openloc.api.submissions import ReportBuilder, SubmitLimits, from_geosubmit_v2
from openloc.cli import main
from openloc.geo.distance import haversine_m
from openloc.ingest.pipeline import process_reports
from openloc.locate.service import locate
from openloc.model.identifiers import station_id
from openloc.model.keys import is_private_mac
from openloc.model.kinds import StationKind
from openloc.publish.dumps import build_region_pack
from openloc.publish.manifest import DownloadFile
from openloc.publish.offline import (
    UnknownPackRegion,
    newest_pack_parts,
    pack_region,
    parse_scan,
)
from openloc.publish.pack import PackReader, PackSet
from openloc.publish.policy import PublishPolicy
from openloc.store.stations import MemoryStationStore
from starlette.testclient import TestClient

from bench.world import TINY, Query, QueryKind, generate_world, make_queries, survey_uploads
from tests.unit.publish.support import write_pack_parts
from tests.unit.small_world import memory_stores

# Published positions are rounded to 0.001°: each station moves by at most half a step in each
# axis (≤ 56 m north–south, ≤ 34 m east–west at 52.5° N, ≤ 66 m together), and a weighted mean
# of such positions moves by no more than its largest move. Accuracy can differ by the change of
# the spread on both sides plus half the 10 m radius rounding step. Cells are published at 1e-5°.
POSITION_TOLERANCE_M = 70.0
ACCURACY_TOLERANCE_M = 2 * POSITION_TOLERANCE_M + 5.0
KINDS: tuple[QueryKind, ...] = ("wifi", "ble", "cell", "cell_area", "moved_ap")


def with_names(body: dict[str, Any]) -> dict[str, Any]:
    """The simulated world has no SSIDs/beacon names: give every network a stable one."""
    for entry in body.get("wifiAccessPoints", []):
        entry["ssid"] = "net-" + entry["macAddress"].replace(":", "")[-6:]
    for entry in body.get("bluetoothBeacons", []):
        entry["name"] = "beacon-" + entry["macAddress"].replace(":", "")[-6:]
    return body


@pytest.fixture(scope="module")
def world_data() -> tuple[MemoryStationStore, list[Query]]:
    world = generate_world(TINY)
    stores = memory_stores()
    for upload in survey_uploads(world):
        for item in upload.body["items"]:
            with_names(item)
        builder = ReportBuilder(SubmitLimits(now=upload.received + timedelta(minutes=1)), api_key=None)
        reports = from_geosubmit_v2(GeosubmitRequest.model_validate(upload.body).items, builder).reports
        process_reports(reports, stores, upload.received)
    assert isinstance(stores.stations, MemoryStationStore)
    return stores.stations, [q for q in make_queries(world, kinds=KINDS) if with_names(q.body)]


@pytest.fixture(scope="module")
def pack(
    world_data: tuple[MemoryStationStore, list[Query]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    stations, _ = world_data
    path = tmp_path_factory.mktemp("pack") / "DE.sqlite"
    records = [s for k, s in stations.stations.items() if not k.startswith("hash#")]
    # Thresholds low enough that every station the online service knows is in the pack.
    now = TINY.query_time
    build_region_pack("DE", records, stations.areas.values(), path, now, PublishPolicy(1, 0))
    return path


def universal_only(body: dict[str, Any]) -> dict[str, Any]:
    """Packs never hold locally administered (randomised) MACs, while the online service still
    uses such Bluetooth beacons: compare on what both can know."""
    beacons = [
        e for e in body.get("bluetoothBeacons", []) if not is_private_mac(e["macAddress"].replace(":", ""))
    ]
    return body | {"bluetoothBeacons": beacons}


def scan_args(body: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    def signal(entry: dict[str, Any]) -> str:
        return f",{entry['signalStrength']}" if entry.get("signalStrength") is not None else ""

    wifis = [f"{e['macAddress']},{e['ssid']}{signal(e)}" for e in body.get("wifiAccessPoints", [])]
    blues = [f"{e['macAddress']},{e['name']}{signal(e)}" for e in body.get("bluetoothBeacons", [])]
    cells = [
        f"{e['radioType']},{e['mobileCountryCode']},{e['mobileNetworkCode']:02d},{e['locationAreaCode']},"
        f"{e['cellId']}{signal(e)}"
        for e in body.get("cellTowers", [])
    ]
    return wifis, blues, cells


def hashed_body(body: dict[str, Any]) -> dict[str, Any]:
    def entries(name: str, kind: StationKind, label: str) -> list[dict[str, Any]]:
        return [
            {
                "hashedId": station_id(kind, e["macAddress"], e[label]),
                "signalStrength": e.get("signalStrength"),
            }
            for e in body.get(name, [])
        ]

    return body | {
        "wifiAccessPoints": entries("wifiAccessPoints", StationKind.WIFI, "ssid"),
        "bluetoothBeacons": entries("bluetoothBeacons", StationKind.BLUE, "name"),
    }


def test_offline_answers_match_online_answers(
    world_data: tuple[MemoryStationStore, list[Query]],
    pack: Path,
    make_services: Callable[..., Services],
    make_client: Callable[[Services], TestClient],
) -> None:
    stations, queries = world_data
    client = make_client(make_services(stations=stations))
    reader = PackReader(pack)
    compared: dict[str, int] = {}
    for query in queries:
        body = universal_only(query.body) | {"considerIp": False}
        raw = client.post("/v1/geolocate?key=test", json=body)
        hashed = client.post("/v1/geolocate?key=test", json=hashed_body(body))
        offline = locate(reader, parse_scan(*scan_args(body)))
        assert raw.status_code == hashed.status_code, query.id
        if raw.status_code == 404:
            assert offline is None, query.id
            continue
        assert raw.json() == hashed.json(), query.id  # hashed identifiers find the very same stations
        answer = raw.json()
        assert offline is not None and offline.fallback == answer.get("fallback"), query.id
        distance = haversine_m(answer["location"]["lat"], answer["location"]["lng"], offline.lat, offline.lon)
        assert distance <= POSITION_TOLERANCE_M, query.id
        assert abs(answer["accuracy"] - offline.accuracy) <= ACCURACY_TOLERANCE_M, query.id
        compared[query.kind] = compared.get(query.kind, 0) + 1
    reader.close()
    # (TINY's few Bluetooth queries with two universally administered beacons are unknown to
    # both; test_offline_bluetooth_matches_online covers Bluetooth.)
    assert all(compared.get(kind, 0) >= 5 for kind in ("wifi", "cell", "cell_area")), compared


def test_offline_bluetooth_matches_online(
    tmp_path: Path,
    make_services: Callable[..., Services],
    make_client: Callable[[Services], TestClient],
) -> None:
    from tests.unit.small_world import START, build_world, observe, offset, visible

    world = build_world(seed=4, wifis=0, blues=40, blue_spread_m=120)
    stores = memory_stores()
    observe(world, stores, START, days=3, per_day=300, seed=8, spread_m=150)
    assert isinstance(stores.stations, MemoryStationStore)
    stations = stores.stations
    records = [s for k, s in stations.stations.items() if not k.startswith("hash#")]
    build_region_pack(
        "DE", records, [], tmp_path / "p.sqlite", START + timedelta(days=3), PublishPolicy(1, 0)
    )
    reader = PackReader(tmp_path / "p.sqlite")
    client = make_client(make_services(stations=stations))
    rng = __import__("random").Random(5)
    found = 0
    for _ in range(80):
        seen = [
            (n, s)
            for n, s in visible(world, *offset(rng.uniform(-120, 120), rng.uniform(-120, 120)))
            if n.kind == "blue"
        ]
        body = {
            "considerIp": False,
            "bluetoothBeacons": [{"macAddress": n.mac, "name": n.name, "signalStrength": s} for n, s in seen],
        }
        online = client.post("/v1/geolocate?key=test", json=body)
        offline = locate(reader, parse_scan([], [f"{n.mac},{n.name},{s}" for n, s in seen], []))
        if online.status_code == 404:
            assert offline is None
            continue
        found += 1
        answer = online.json()
        assert offline is not None
        assert (
            haversine_m(answer["location"]["lat"], answer["location"]["lng"], offline.lat, offline.lon)
            <= POSITION_TOLERANCE_M
        )
    reader.close()
    assert found >= 5


def test_cli_offline_locate(
    world_data: tuple[MemoryStationStore, list[Query]], pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = next(q for q in world_data[1] if q.kind == "wifi")
    wifis, blues, cells = scan_args(query.body)
    argv = ["offline", "locate", "--pack", str(pack)]
    argv += [a for w in wifis for a in ("--wifi", w)] + [a for c in cells for a in ("--cell", c)]
    argv += [a for b in blues for a in ("--blue", b)]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    assert haversine_m(answer["location"]["lat"], answer["location"]["lng"], query.lat, query.lon) < 300
    assert main(["offline", "locate", "--pack", str(pack), "--wifi", "v2:" + "0" * 32]) == 2
    assert json.loads(capsys.readouterr().err)["error"]["errors"][0]["reason"] == "parseError"
    assert main(["offline", "locate", "--pack", str(pack), "--wifi", "00163e999999,nothing"]) == 1
    assert json.loads(capsys.readouterr().err)["error"]["code"] == 404
    assert main(["offline", "locate", "--pack", str(pack.parent / "missing.sqlite")]) == 2


@pytest.mark.parametrize(("value", "expected"), [("de", "DE"), ("mcc-262", "mcc-262"), ("262", "mcc-262")])
def test_pack_regions(value: str, expected: str) -> None:
    assert pack_region(value) == expected


@pytest.mark.parametrize("value", ["ZZ", "mcc-999", "Germany", "", "mcc-x"])
def test_unknown_pack_regions(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnknownPackRegion):
        pack_region(value)
    assert main(["offline", "build", "--region", value, "--out", "unused.sqlite"]) == 1
    error = json.loads(capsys.readouterr().err)["error"]
    assert error["code"] == 404 and "region" in error["message"]


# --- packs in parts -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack_parts(
    world_data: tuple[MemoryStationStore, list[Query]], tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    stations, _ = world_data
    folder = tmp_path_factory.mktemp("parts")
    records = [s for k, s in stations.stations.items() if not k.startswith("hash#")]
    written = write_pack_parts(
        records, stations.areas.values(), folder, "DE", TINY.query_time, PublishPolicy(1, 0), parts=3
    )
    return [path for path, _, _ in written]


def test_parts_hold_each_row_once_and_every_area(pack: Path, pack_parts: list[Path]) -> None:
    whole = PackReader(pack)
    readers = [PackReader(path) for path in pack_parts]
    for table in ("wifi", "blue", "cell"):
        rows = [int(r.meta[f"rows_{table}"]) for r in readers]
        assert sum(rows) == int(whole.meta[f"rows_{table}"])
    assert all(r.meta["rows_cell_area"] == whole.meta["rows_cell_area"] for r in readers)
    assert sum(int(r.meta["rows_wifi"]) > 0 for r in readers) == 3  # a real split, not one full part
    for reader in (whole, *readers):
        reader.close()


def test_answers_from_all_parts_equal_the_whole_pack(
    world_data: tuple[MemoryStationStore, list[Query]], pack: Path, pack_parts: list[Path]
) -> None:
    """The engine over the parts answers every held-out query exactly as over the unsplit pack
    (each station is in one part: the union of the parts' answers is the whole pack's)."""
    _, queries = world_data
    whole, parts = PackReader(pack), PackSet.open(pack_parts)
    answered = across = 0
    for query in queries:
        scan = parse_scan(*scan_args(universal_only(query.body)))
        expected = locate(whole, scan)
        assert locate(parts, scan) == expected, query.id
        answered += expected is not None
        across += sum(bool(reader.stations(scan)[1]) for reader in parts.readers) >= 2
    assert parts.missing_parts() == {}
    whole.close()
    parts.close()
    assert answered >= 20
    assert across >= 3  # queries near a split line: their networks are in two parts


def test_missing_parts_are_reported(pack_parts: list[Path]) -> None:
    given = PackSet.open(pack_parts[:1] + pack_parts[2:])
    assert list(given.missing_parts().values()) == [[2]]
    given.close()


def test_cli_offline_locate_over_parts(
    world_data: tuple[MemoryStationStore, list[Query]],
    pack_parts: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--pack` takes a folder of downloaded (.gz) parts, or each part repeated; a missing part is
    named on stderr, and the answer comes from what was given."""
    import gzip

    for path in pack_parts:
        (tmp_path / (path.name + ".gz")).write_bytes(gzip.compress(path.read_bytes()))
    query = next(q for q in world_data[1] if q.kind == "wifi")
    wifis, _, cells = scan_args(query.body)
    networks = [a for w in wifis for a in ("--wifi", w)] + [a for c in cells for a in ("--cell", c)]
    answers = []
    for packs in (["--pack", str(tmp_path)], [a for p in pack_parts for a in ("--pack", str(p))]):
        assert main(["offline", "locate", *packs, *networks]) == 0
        out, err = capsys.readouterr()
        answers.append(json.loads(out))
        assert err == ""
    assert answers[0] == answers[1]
    assert (
        haversine_m(answers[0]["location"]["lat"], answers[0]["location"]["lng"], query.lat, query.lon) < 300
    )
    assert main(["offline", "locate", "--pack", str(pack_parts[0]), *networks]) in (0, 1)
    assert "part(s) 2, 3 not given" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["offline", "locate", "--pack", str(empty), *networks]) == 2
    assert "no .sqlite or .sqlite.gz pack" in json.loads(capsys.readouterr().err)["error"]["message"]


def entry(
    region: str, day: int, part: int | None = None, parts: int | None = None, **extra: Any
) -> DownloadFile:
    name = f"openloc-pack-{region}" + (f"-{part}of{parts}" if parts and parts > 1 else "")
    fields: dict[str, Any] = dict(extra)
    if part is not None:
        fields |= {"part": part, "parts": parts}
    return DownloadFile(
        kind="offline-pack", path=f"exports/offline/2026-11-{day:02d}/{name}.sqlite.gz", region=region,
        format="sqlite.gz", size=100 + (part or 1), rows=10, sha256="b" * 64,
        created=datetime(2026, 11, day, 2, 7, tzinfo=UTC), **fields,
    )  # fmt: skip


def test_newest_pack_parts_picks_the_newest_complete_generation() -> None:
    bbox = [13.0, 52.0, 13.5, 52.6]
    old = [entry("DE", 21)]  # written before parts existed: part 1 of 1, no bbox
    split = [entry("DE", 22, n, 3, bbox=bbox) for n in (3, 1, 2)]
    unfinished = [entry("DE", 23, 1, 2, bbox=bbox)]  # part 2 not listed (yet)
    other = [entry("mcc-262", 23), entry("FR", 23, 1, 2, bbox=bbox)]
    found = newest_pack_parts([*old, *split, *unfinished, *other], "DE")
    assert [(p.part, p.parts, p.entry.path, p.bbox) for p in found] == [
        (n, 3, f"exports/offline/2026-11-22/openloc-pack-DE-{n}of3.sqlite.gz", tuple(bbox)) for n in (1, 2, 3)
    ]
    assert [p.bbox for p in newest_pack_parts(old, "DE")] == [None]
    assert newest_pack_parts([*other, *unfinished], "DE") == []
    assert newest_pack_parts(other, "FR") == []


@pytest.mark.parametrize(
    "extra",
    [
        {"part": 0, "parts": 1},
        {"part": 3, "parts": 2},
        {"part": "1", "parts": 1},
        {"part": True, "parts": 1},
    ],
)
def test_entries_with_unusable_part_fields_are_ignored(extra: dict[str, Any]) -> None:
    bad = DownloadFile.model_validate(entry("DE", 23).model_dump() | extra)
    assert newest_pack_parts([bad, entry("DE", 20)], "DE")[0].entry.path.startswith(
        "exports/offline/2026-11-20/"
    )


@pytest.mark.parametrize("bbox", [[1, 2, 3], [0, 91, 1, 92], ["a", 0, 1, 1], [0, 0, float("nan"), 1], "x"])
def test_unusable_bbox_reads_as_none(bbox: Any) -> None:
    assert newest_pack_parts([entry("DE", 23, 1, 1, bbox=bbox)], "DE")[0].bbox is None
