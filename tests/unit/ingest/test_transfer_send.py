"""`openloc transfer`'s engine: one instance's stations sent to another through the in-process
receiving app (`POST /v1/transfer`): everything once, then only changes; a sender killed mid-way
resumes without merging anything twice; retries, refusals and batches too large for the peer."""

from __future__ import annotations

import gzip
import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openloc.api.services import Services
from openloc.ingest.transfer_send import SETTLE, SendResult, batch_id, send_transfer, split_body
from openloc.model.records import ApiKeyRecord, StationRecord
from openloc.settings import Settings
from openloc.store.api_keys import MemoryApiKeyStore
from openloc.store.processed import MemoryProcessedMessages
from openloc.store.stations import MemoryStationStore
from openloc.store.transfer_peer import HttpTransferPeer, PeerUnavailable, TransferRejected
from openloc.store.transfer_state import TransferState
from starlette.testclient import TestClient

from tests.unit.small_world import START, build_world, memory_stores, observe

SENDER = "site-a"
FIRST_RUN = START + timedelta(days=5)


class Killed(BaseException):
    """The sending process dies (after the peer merged a batch, before its acknowledgement)."""


@dataclass
class Receiver:
    client: TestClient
    stations: MemoryStationStore
    processed: MemoryProcessedMessages


class AppPeer(HttpTransferPeer):
    """The real HTTP peer logic (retries, envelopes), its requests answered by an in-process app."""

    def __init__(self, receiver: Receiver, key: str = "peer", **kw: Any) -> None:
        self.sleeps: list[float] = []
        super().__init__("http://peer.test", key, sleep=self.sleeps.append, **kw)
        self.receiver = receiver
        self.posted: list[str] = []
        self.payloads: list[dict[str, Any]] = []
        self.kill_after: int | None = None
        self.faults: list[tuple[int, str | None] | Exception] = []

    def _post(self, body: bytes) -> tuple[int, bytes, str | None]:
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            return (
                fault[0],
                b'{"error": {"errors": [{"reason": "serviceUnavailable"}], "message": "busy"}}',
                fault[1],
            )
        response = self.receiver.client.post(
            self.url.removeprefix("http://peer.test"),
            content=body,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
        self.payloads.append(json.loads(gzip.decompress(body)))
        self.posted.append(self.payloads[-1]["batch"])
        if (
            self.kill_after is not None
            and len(self.posted) >= self.kill_after
            and response.status_code == 200
        ):
            raise Killed
        return response.status_code, response.content, response.headers.get("retry-after")


@pytest.fixture(scope="module")
def world() -> MemoryStationStore:
    """The sending instance: a small world aggregated from stumbler reports over five days."""
    stores = memory_stores()
    observe(build_world(seed=11, wifis=300, blues=30), stores, START, days=5, per_day=400, seed=3)
    assert isinstance(stores.stations, MemoryStationStore)
    return stores.stations


def copy(store: MemoryStationStore) -> MemoryStationStore:
    fresh = MemoryStationStore()
    fresh.put_stations(store.stations.values())
    fresh.put_areas(store.areas.values())
    return fresh


@pytest.fixture
def make_receiver(
    make_services: Callable[..., Services], make_client: Callable[[Services], TestClient]
) -> Callable[..., Receiver]:
    def make(max_items: int = 500) -> Receiver:
        stations, processed = MemoryStationStore(), MemoryProcessedMessages()
        keys = MemoryApiKeyStore(ApiKeyRecord(key="peer", allow_transfer=True), ApiKeyRecord(key="plain"))
        services = make_services(
            settings=Settings(transfer_max_items=max_items),
            stations=stations,
            api_keys=keys,
            processed=processed,
        )
        return Receiver(make_client(services), stations, processed)

    return make


def send(sender: MemoryStationStore, state: Path, peer: AppPeer, now: datetime, **kw: Any) -> SendResult:
    ledger = TransferState(state)
    try:
        return send_transfer(sender, ledger, peer, SENDER, now, **kw)
    finally:
        ledger.close()


def sendable(store: MemoryStationStore) -> dict[str, StationRecord]:
    return {
        k: r for k, r in store.stations.items() if r.positioned and not r.held and not k.startswith("hash#")
    }


def test_first_run_sends_every_station_and_the_peer_holds_them(
    world: MemoryStationStore, make_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    receiver = make_receiver()
    peer = AppPeer(receiver)
    result = send(world, tmp_path / "state.sqlite", peer, FIRST_RUN, batch_size=200)
    expected = sendable(world)
    kinds = {k.split("#")[0] for k in expected}
    assert kinds == {"wifi", "blue", "cell"} and len(expected) > 250
    assert result.since is None and result.until == FIRST_RUN - SETTLE
    assert result.items == len(expected) + len(world.areas) and result.batches == -(-result.items // 200)
    assert peer.posted == [batch_id(SENDER, FIRST_RUN - SETTLE, n) for n in range(1, result.batches + 1)]
    for key, record in expected.items():
        got = receiver.stations.stations[key]
        assert (got.lat, got.lon, got.samples) == (record.lat, record.lon, record.samples), key
        # The peer derives the radius from a bbox reaching `range` from the centre: whole metres.
        assert abs(got.radius - record.radius) <= 1.5, key
    assert set(receiver.stations.stations) - {
        k for k in receiver.stations.stations if k.startswith("hash#")
    } == set(expected)
    # Areas are recomputed by the peer from the cells it received.
    assert set(receiver.stations.areas) == set(world.areas)


def test_second_run_sends_nothing_third_only_what_changed(
    world: MemoryStationStore, make_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    sender = copy(world)
    receiver = make_receiver()
    peer = AppPeer(receiver)
    state = tmp_path / "state.sqlite"
    first = send(sender, state, peer, FIRST_RUN)
    again = send(sender, state, peer, FIRST_RUN + timedelta(hours=1))
    assert (again.since, again.items, again.batches) == (first.until, 0, 0)
    assert len(peer.posted) == first.batches
    # Two more days of reports: some stations move, grow or appear.
    later = FIRST_RUN + timedelta(hours=2)
    stores = memory_stores()
    stores.stations = sender
    observe(
        build_world(seed=11, wifis=330, blues=30), stores, later, days=2, per_day=150, seed=9, spread_m=250
    )
    third_run = later + timedelta(days=3)
    changed = [r for r in sendable(sender).values() if r.modified is not None and r.modified >= later]
    changed_areas = [a for a in sender.areas.values() if a.modified is not None and a.modified >= later]
    assert 0 < len(changed) < len(sendable(sender)) / 2
    third = send(sender, state, peer, third_run)
    assert third.since == again.until and third.items == len(changed) + len(changed_areas)
    sent = [item for payload in peer.payloads[first.batches :] for item in items_of(payload)]
    assert sorted(sent) == sorted(r.key for r in changed + changed_areas)


def items_of(payload: dict[str, Any]) -> list[str]:
    """The station keys a batch names."""
    from openloc.model.exchange import CellAreaItem, CellItem, StationItem

    keys = [CellItem.model_validate(c).cell_id.key for c in payload.get("cells", [])]  # type: ignore[union-attr]
    keys += [StationItem.model_validate(s).key for s in payload.get("stations", [])]
    return keys + [CellAreaItem.model_validate(a).key for a in payload.get("areas", [])]


def test_killed_mid_way_resumes_without_double_merges(
    world: MemoryStationStore, make_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    """Killed right after the peer merged batch 3 (its acknowledgement lost): the rerun sends batch
    3 again under its id, the peer skips it, and the peer ends exactly as after an uninterrupted
    run. A kill while spooling (before anything was sent) redoes the spool for the same window."""
    clean = make_receiver()
    send(world, tmp_path / "clean.sqlite", AppPeer(clean), FIRST_RUN, batch_size=100)

    receiver = make_receiver()
    state = tmp_path / "state.sqlite"
    peer = AppPeer(receiver)
    peer.kill_after = 3
    with pytest.raises(Killed):
        send(world, state, peer, FIRST_RUN, batch_size=100)
    ledger = TransferState(state)
    assert ledger.run is not None and ledger.run.phase == "sending" and ledger.counts()[2] == 2
    ledger.close()
    resumed_peer = AppPeer(receiver)
    resumed = send(world, state, resumed_peer, FIRST_RUN + timedelta(minutes=30), batch_size=100)
    assert resumed.resumed and resumed.already_sent == 2 and resumed.until == FIRST_RUN - SETTLE
    assert resumed_peer.posted[0] == peer.posted[-1] == batch_id(SENDER, FIRST_RUN - SETTLE, 3)
    assert fields(receiver.stations) == fields(clean.stations)

    class DyingStore(MemoryStationStore):
        def scan_areas(self, segment: int = 0, total_segments: int = 1) -> Any:
            raise Killed

    dying = DyingStore()
    dying.put_stations(world.stations.values())
    spooling = make_receiver()
    with pytest.raises(Killed):
        send(dying, tmp_path / "spool.sqlite", AppPeer(spooling), FIRST_RUN, batch_size=100)
    assert spooling.stations.stations == {}  # nothing is sent before the spool is complete
    after = send(
        copy(world),
        tmp_path / "spool.sqlite",
        AppPeer(spooling),
        FIRST_RUN + timedelta(hours=5),
        batch_size=100,
    )
    assert after.resumed and after.until == FIRST_RUN - SETTLE
    assert fields(spooling.stations) == fields(clean.stations)


def fields(store: MemoryStationStore) -> dict[str, tuple[Any, ...]]:
    return {
        k: (r.lat, r.lon, r.samples, r.weight, r.radius)
        for k, r in store.stations.items()
        if not k.startswith("hash#")
    }


def test_retries_with_backoff_then_refusal_stops(
    world: MemoryStationStore, make_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    receiver = make_receiver()
    peer = AppPeer(receiver)
    peer.faults = [(503, None), ConnectionRefusedError("refused"), (503, "7"), (502, None)]
    result = send(world, tmp_path / "s.sqlite", peer, FIRST_RUN)
    assert peer.sleeps == [1.0, 2.0, 7.0, 8.0] and peer.retries == 4 and result.items > 0
    wrong_key = AppPeer(make_receiver(), key="plain")
    with pytest.raises(TransferRejected, match="403 transferNotAllowed"):
        send(world, tmp_path / "k.sqlite", wrong_key, FIRST_RUN)
    assert wrong_key.sleeps == []  # a 4xx is final: no retry
    down = AppPeer(make_receiver(), attempts=3)
    down.faults = [ConnectionResetError("reset"), http.client.IncompleteRead(b""), TimeoutError("timed out")]
    with pytest.raises(PeerUnavailable, match="3 attempts"):
        send(world, tmp_path / "d.sqlite", down, FIRST_RUN)
    assert down.sleeps == [1.0, 2.0]


def test_batches_too_large_for_the_peer_go_in_halves(
    world: MemoryStationStore, make_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    small = make_receiver(max_items=120)
    peer = AppPeer(small)
    result = send(world, tmp_path / "s.sqlite", peer, FIRST_RUN, batch_size=400)
    first = batch_id(SENDER, FIRST_RUN - SETTLE, 1)
    # 400 items → 413; 200 → 413; 100 → merged.
    assert peer.posted[:7] == [
        first,
        *(f"{first}{half}" for half in (".1", ".1.1", ".1.2", ".2", ".2.1", ".2.2")),
    ]
    assert result.requests > result.batches
    clean = make_receiver()
    send(world, tmp_path / "c.sqlite", AppPeer(clean), FIRST_RUN, batch_size=400)
    assert fields(small.stations) == fields(clean.stations)


def test_split_is_deterministic_and_loses_nothing() -> None:
    body = gzip.compress(
        json.dumps(
            {"batch": "b", "cells": [{"n": i} for i in range(5)], "areas": [{"a": 1}], "stations": [{"s": 1}]}
        ).encode()
    )
    halves = split_body(body)
    assert halves == split_body(body)
    decoded = [json.loads(gzip.decompress(b)) for _, b, _ in halves]
    assert [d["batch"] for d in decoded] == ["b.1", "b.2"] and [n for _, _, n in halves] == [3, 4]
    assert sum(len(d.get("cells", [])) for d in decoded) == 5
    assert [d.get("stations") for d in decoded] == [None, [{"s": 1}]]
