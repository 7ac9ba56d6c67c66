"""What the HTTP apps depend on, built once per process (or by tests with in-memory twins)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openloc.api.keys import KeyCachePolicy, KeyChecker
from openloc.api.limits import Limiter, LimitSettings
from openloc.locate.lookup import CachedRecords, RecordLookup, StationLookup
from openloc.settings import Settings, get_settings
from openloc.store.counters import CounterStore, RedisCounters
from openloc.store.key_cache import KeyCache, RedisKeyCache

if TYPE_CHECKING:  # annotations only: not imported by a cold start
    import redis

    from openloc.locate.geoip import GeoIpDatabase
    from openloc.publish.manifest import Manifest
    from openloc.store.api_keys import ApiKeyStore
    from openloc.store.processed import ProcessedMessages
    from openloc.store.queue import ObservationQueue
    from openloc.store.stations import StationStore

MANIFEST_CACHE_SECONDS = 60.0


def cached_manifest(
    read: Callable[[], Manifest | None], clock: Callable[[], float], seconds: float = MANIFEST_CACHE_SECONDS
) -> Callable[[], Manifest | None]:
    """`read` at most once per `seconds` (the manifest itself is served with max-age=60)."""
    state: dict[str, tuple[float, Manifest | None]] = {}

    def get() -> Manifest | None:
        now = clock()
        cached = state.get("value")
        if cached is None or now - cached[0] >= seconds:
            cached = state["value"] = (now, read())
        return cached[1]

    return get


@dataclass
class Services:
    settings: Settings
    stations: StationStore
    api_keys: ApiKeyStore
    queue: ObservationQueue
    redis: Callable[[], redis.Redis | None]
    database_ping: Callable[[], None]
    geoip: GeoIpDatabase | None = None
    # The downloads manifest (None: none published yet), for `GET /v1/offline/{region}`.
    manifest: Callable[[], Manifest | None] = lambda: None
    processed: ProcessedMessages | None = None  # batch ids merged by /v1/transfer
    # Limit counters and the shared key cache (default: in Redis, through `redis`).
    counters: CounterStore | None = None
    key_cache: KeyCache | None = None
    # The IP hash key (default: the IP_HASH_KEY setting; deployed: a Secrets Manager secret).
    hash_key: Callable[[], str] | None = None
    # Behind CloudFront: the origin secret's accepted values, `origin_secret(fresh)` (openloc.api.origin).
    origin_secret: Callable[[bool], frozenset[str]] | None = None
    # Imports the route modules of the app built on these services (set by `api.app.build_app`).
    warm_routes: Callable[[], None] = lambda: None
    keys: KeyChecker = field(init=False)
    limiter: Limiter = field(init=False)
    lookup: StationLookup = field(init=False)
    # The per-instance station cache in front of `stations` (None when STATION_CACHE_* is 0).
    station_cache: CachedRecords | None = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        entries, seconds = settings.station_cache_entries, settings.station_cache_seconds
        self.station_cache = CachedRecords(self.stations, entries, seconds) if entries and seconds else None
        self.lookup = RecordLookup(self.station_cache or self.stations)
        if self.counters is None:
            self.counters = RedisCounters(self.redis)
        if self.key_cache is None:
            self.key_cache = RedisKeyCache(self.redis)
        if self.hash_key is None:
            fixed = settings.ip_hash_key
            self.hash_key = lambda: fixed
        self.keys = KeyChecker(
            self.api_keys,
            self.key_cache,
            self.counters,
            KeyCachePolicy(
                ttl=settings.api_key_cache_seconds,
                negative_ttl=settings.api_key_negative_cache_seconds,
                size=settings.api_key_cache_size,
                unknown_per_minute=settings.limit_invalid_keys_per_minute,
            ),
            self.hash_key,
        )
        self.limiter = Limiter(
            self.counters,
            LimitSettings(per_ip_minute=settings.limit_ip_per_minute, per_ip_day=settings.limit_ip_per_day),
            self.hash_key,
        )

    @property
    def counter_store(self) -> CounterStore:
        assert self.counters is not None  # set by __post_init__
        return self.counters

    def current_hash_key(self) -> str:
        assert self.hash_key is not None  # set by __post_init__
        return self.hash_key()


def country_radius_m(code: str) -> float | None:
    """The radius of a country (GeoIP country-level accuracy), from the shipped region data."""
    from openloc.geo.regions import region_by_code

    region = region_by_code(code)
    return region.radius_m if region is not None else None


def aws_services(settings: Settings | None = None) -> Services:
    """Services backed by DynamoDB, SQS, S3 and Redis as configured by the environment."""
    from openloc.locate.geoip import from_path as geoip_from_path
    from openloc.store.api_keys import DynamoApiKeyStore
    from openloc.store.geoip_file import resolve_geoip_path
    from openloc.store.processed import DynamoProcessedMessages
    from openloc.store.queue import SqsObservationQueue
    from openloc.store.redis_client import get_redis
    from openloc.store.secrets import hash_key_source, origin_secret_source
    from openloc.store.stations import DynamoStationStore

    settings = settings or get_settings()
    api_keys = DynamoApiKeyStore.from_settings(settings)
    return Services(
        settings=settings,
        stations=DynamoStationStore.from_settings(settings),
        api_keys=api_keys,
        queue=SqsObservationQueue.from_settings(settings),
        redis=get_redis,
        database_ping=api_keys.ping,
        geoip=geoip_from_path(resolve_geoip_path(settings.geoip_path), country_radius=country_radius_m),
        manifest=cached_manifest(lambda: _read_manifest(settings), time.monotonic),
        processed=DynamoProcessedMessages.from_settings(settings),
        hash_key=hash_key_source(settings),
        origin_secret=origin_secret_source(settings),
    )


def _read_manifest(settings: Settings) -> Manifest | None:
    """The assets bucket's manifest; boto3 and the S3 client are created on the first call (the
    offline route is rare: the handlers' cold import stays free of boto3)."""
    from openloc.publish.manifest import read_manifest
    from openloc.store.objects import S3ObjectStore

    return read_manifest(S3ObjectStore.from_settings(settings))[0]


def warm_up(services: Services) -> None:
    """Do ahead of time what the first request would: import and connect the stores, load the
    region data, open the GeoIP files. Run by SnapStart before the snapshot is taken, so restored
    instances start warm while a plain cold start keeps a lean import."""
    from openloc.geo.regions import region_by_code

    for store in (services.stations, services.api_keys):
        warm = getattr(store, "warm", None)
        if callable(warm):
            warm()
    region_by_code("DE")
    services.warm_routes()
    from openloc.api.schemas import build_validators

    build_validators()
    if services.geoip is not None:
        services.geoip.lookup("8.8.8.8")
    services.redis()


def register_snapshot_warm_up(services: Services) -> bool:
    """Register `warm_up` as a SnapStart before-snapshot hook when running under SnapStart."""
    try:
        from snapshot_restore_py import register_before_snapshot  # provided by the Lambda runtime
    except ImportError:
        return False
    register_before_snapshot(lambda: warm_up(services))
    return True
