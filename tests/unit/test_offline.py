"""Offline packs answer like the online service: held-out scans of the small world, located by
`/v1/geolocate` (raw MACs and hashed identifiers) and by `openloc offline locate` on the pack."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openloc.api.services import Services
from openloc.cli import main
from openloc.data.offline_locate import UnknownPackRegion, locate_offline, pack_region, parse_scan
from openloc.data.pack import PackReader
from openloc.data.publish import PublishPolicy
from openloc.data.publish_job import build_region_pack
from openloc.geo.distance import haversine_m
from openloc.station_hash import station_id
from openloc.store.stations import MemoryStationStore
from starlette.testclient import TestClient

from tests.unit.small_world import Network, build_world, memory_stores, observe, offset, visible

START = datetime(2026, 10, 1, tzinfo=UTC)
NOW = START + timedelta(days=12)
# Published positions are rounded to 0.001°: each station moves by at most half a step in each
# axis (≤ 56 m north–south, ≤ 34 m east–west here, ≤ 66 m together), and a weighted mean of
# such positions moves by no more than its largest move. Accuracy can differ by the same spread
# change on both sides plus half the 10 m radius rounding step.
POSITION_TOLERANCE_M = 70.0
ACCURACY_TOLERANCE_M = 2 * POSITION_TOLERANCE_M + 5.0


@pytest.fixture(scope="module")
def world() -> list[Network]:
    return build_world(seed=11)


@pytest.fixture(scope="module")
def stations(world: list[Network]) -> MemoryStationStore:
    stores = memory_stores()
    observe(world, stores, START, days=12, per_day=350, seed=5)
    assert isinstance(stores.stations, MemoryStationStore)
    return stores.stations


@pytest.fixture(scope="module")
def pack(stations: MemoryStationStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pack") / "DE.sqlite"
    records = [s for k, s in stations.stations.items() if not k.startswith("hash#")]
    # Thresholds low enough that every station the online service knows is in the pack.
    build_region_pack("DE", records, stations.areas.values(), path, NOW, PublishPolicy(1, 0))
    return path


def scan_args(seen: list[tuple[Network, int]]) -> tuple[list[str], list[str], list[str]]:
    wifis = [f"{n.mac},{n.name},{s}" for n, s in seen if n.kind == "wifi"]
    blues = [f"{n.mac},{n.name},{s}" for n, s in seen if n.kind == "blue"]
    cells = [f"lte,{n.cell[0]},{n.cell[1]},{n.cell[2]},{n.cell[3]},{s}" for n, s in seen if n.cell]
    return wifis, blues, cells


def online_body(seen: list[tuple[Network, int]], hashed: bool) -> dict[str, object]:
    def entry(n: Network, s: int) -> dict[str, object]:
        if hashed:
            return {
                "hashedId": station_id("wifi" if n.kind == "wifi" else "blue", n.mac, n.name),
                "signalStrength": s,
            }
        return {"macAddress": n.mac, "ssid" if n.kind == "wifi" else "name": n.name, "signalStrength": s}

    return {
        "considerIp": False,
        "wifiAccessPoints": [entry(n, s) for n, s in seen if n.kind == "wifi"],
        "bluetoothBeacons": [entry(n, s) for n, s in seen if n.kind == "blue"],
        "cellTowers": [
            {"radioType": "lte", "mobileCountryCode": n.cell[0], "mobileNetworkCodeStr": n.cell[1],
             "mobileNetworkCode": int(n.cell[1]), "locationAreaCode": n.cell[2], "cellId": n.cell[3],
             "signalStrength": s}
            for n, s in seen if n.cell
        ],
    }  # fmt: skip


def test_offline_answers_match_online_answers(
    world: list[Network],
    stations: MemoryStationStore,
    pack: Path,
    make_services: Callable[..., Services],
    make_client: Callable[[Services], TestClient],
) -> None:
    client = make_client(make_services(stations=stations))
    reader = PackReader(pack)
    rng = random.Random(99)  # held-out positions, not those of the stumbler reports
    compared = {"wifi_or_blue": 0, "cell": 0}
    worst = 0.0
    for _ in range(60):
        seen = visible(world, *offset(rng.uniform(-550, 550), rng.uniform(-550, 550)))
        raw = client.post("/v1/geolocate?key=test", json=online_body(seen, hashed=False))
        hashed = client.post("/v1/geolocate?key=test", json=online_body(seen, hashed=True))
        offline = locate_offline(reader, parse_scan(*scan_args(seen)))
        assert raw.status_code == hashed.status_code
        if raw.status_code == 404:
            assert offline is None
            continue
        assert raw.json() == hashed.json()  # hashed identifiers find the very same stations
        answer = raw.json()
        assert offline is not None and offline.fallback == answer.get("fallback")
        distance = haversine_m(answer["location"]["lat"], answer["location"]["lng"], offline.lat, offline.lon)
        worst = max(worst, distance)
        assert distance <= POSITION_TOLERANCE_M
        assert abs(answer["accuracy"] - offline.accuracy) <= ACCURACY_TOLERANCE_M
        compared["cell" if answer["accuracy"] >= 1000 else "wifi_or_blue"] += 1
    reader.close()
    assert compared["wifi_or_blue"] >= 30 and worst > 0  # a real comparison, not only cells


def test_cli_offline_locate(world: list[Network], pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seen = visible(world, *offset(10, 10))
    wifis, blues, cells = scan_args(seen)
    argv = ["offline", "locate", "--pack", str(pack)]
    argv += [a for w in wifis for a in ("--wifi", w)] + [a for c in cells for a in ("--cell", c)]
    argv += [a for b in blues for a in ("--blue", b)]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    assert haversine_m(answer["location"]["lat"], answer["location"]["lng"], *offset(10, 10)) < 150
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
