"""The simulated world: deterministic, and everything it emits is valid wire input."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from openloc.api.schemas import GeosubmitRequest, LocateRequest
from openloc.api.submissions import ReportBuilder, SubmitLimits, from_geosubmit_v2
from openloc.geo.distance import haversine_m
from openloc.locate.geoip import GeoIpDatabase

from bench.world import TINY, generate_world, make_queries, survey_uploads, write_geoip_mmdb


def _fingerprint(seed: int) -> str:
    world = generate_world(replace(TINY, seed=seed))
    uploads = survey_uploads(world)
    queries = make_queries(world)
    return json.dumps(
        [[u.received.isoformat(), u.body] for u in uploads] + [q.__dict__ for q in queries], sort_keys=True
    )


def test_same_seed_same_world_other_seed_other_world() -> None:
    assert _fingerprint(1) == _fingerprint(1)
    assert _fingerprint(1) != _fingerprint(2)


def test_uploads_are_valid_geosubmit_v2_and_yield_usable_reports() -> None:
    world = generate_world(TINY)
    uploads = survey_uploads(world)
    assert uploads
    kept = 0
    for upload in uploads:
        request = GeosubmitRequest.model_validate(upload.body)
        builder = ReportBuilder(SubmitLimits(now=upload.received + timedelta(minutes=1)), api_key=None)
        outcome = from_geosubmit_v2(request.items, builder)
        assert not outcome.dropped, outcome.dropped
        kept += len(outcome.reports)
        for report, item in zip(outcome.reports, upload.items, strict=True):
            assert report.timestamp <= int(upload.received.timestamp() * 1000)
            assert len(report.wifi) == len(item["wifiAccessPoints"])
            assert len(report.cells) == len(item["cellTowers"])
    assert kept == sum(len(u.items) for u in uploads)


def test_queries_cover_every_kind_near_the_city(tmp_path: Path) -> None:
    world = generate_world(TINY)
    queries = make_queries(world)
    kinds = {q.kind for q in queries}
    assert {"wifi", "ble", "cell", "cell_area", "ip", "moved_ap", "single_ap"} <= kinds
    for query in queries:
        LocateRequest.model_validate(query.body)
        assert haversine_m(query.lat, query.lon, *world.config.center) <= world.config.radius_m + 1_000
        if query.kind == "single_ap":
            assert len(query.body["wifiAccessPoints"]) == 1
        if query.kind == "moved_ap":
            moved = next(e for e in world.emitters if e.mac == query.note)
            assert moved.moved_at_s is not None and moved.moved_at_s > world.config.survey_days * 86_400
    database = GeoIpDatabase(str(write_geoip_mmdb(world, tmp_path / "world.mmdb")))
    ip_queries = [q for q in queries if q.kind == "ip"]
    assert ip_queries and all(q.client_ip and database.lookup(q.client_ip) for q in ip_queries)
    database.close()
