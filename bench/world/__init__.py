"""A seeded, deterministic simulated city for benchmarks and tests.

    from bench.world import TINY, generate_world, survey_uploads, make_queries, write_geoip_mmdb

    world = generate_world(TINY)           # emitters, cell sectors, GeoIP plan (same seed → same world)
    uploads = survey_uploads(world)        # stumbler geosubmit v2 bodies with their receive times
    queries = make_queries(world)          # held-out /v1/geolocate bodies with ground truth
    write_geoip_mmdb(world, "world.mmdb")  # the IP plan as a GeoLite2-City style file

Positions are generated in local metres around `WorldConfig.center` (`World.frame` converts).
The world's density falls off exponentially from the centre over a uniform suburban floor;
Wi-Fi access points, Bluetooth beacons and 2G/3G/4G/5G sectored towers follow it. A share of
access points move house once (some after the survey: the database still knows them at their old
place) and a few ride buses. See the modules for the radio and stumbler models.
"""

from bench.world.generate import generate_world, sample_position
from bench.world.geoip_db import write_geoip_mmdb
from bench.world.geometry import Frame
from bench.world.model import (
    EVAL_SEEDS,
    LARGE,
    PROFILES,
    QUERY_KINDS,
    RADIOS,
    TINY,
    TRAIN_SEED,
    Emitter,
    IpBlock,
    Query,
    QueryKind,
    Sector,
    World,
    WorldConfig,
)
from bench.world.queries import make_queries
from bench.world.radio import Radios
from bench.world.stumble import Upload, survey_uploads
from bench.world.wire import mac_address

__all__ = [
    "EVAL_SEEDS",
    "LARGE",
    "PROFILES",
    "QUERY_KINDS",
    "RADIOS",
    "TINY",
    "TRAIN_SEED",
    "Emitter",
    "Frame",
    "IpBlock",
    "Query",
    "QueryKind",
    "Radios",
    "Sector",
    "Upload",
    "World",
    "WorldConfig",
    "generate_world",
    "mac_address",
    "make_queries",
    "sample_position",
    "survey_uploads",
    "write_geoip_mmdb",
]
