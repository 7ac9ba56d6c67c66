"""Typed settings, read once from the environment.

Every knob of the service is an environment variable; the README's configuration table lists them.
The same names are used by the Lambda functions (set by the CDK stack) and by the embedded local
stack (set by `openloc run`). AWS endpoints come from the standard `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service configuration. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # AWS resources (names as created by the CDK stack and by the local stack).
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    stations_table: str = "openloc-stations"
    cell_areas_table: str = "openloc-cell-areas"
    api_keys_table: str = "openloc-api-keys"
    datamap_table: str = "openloc-datamap"
    stats_table: str = "openloc-stats"
    processed_table: str = "openloc-processed"
    sources_table: str = "openloc-sources"
    observations_queue_url: str = ""
    archive_bucket: str = "openloc-archive"
    assets_bucket: str = "openloc-assets"

    # Redis: API-key cache and rate limits. Empty = run without (no limits applied).
    redis_url: str = ""
    redis_timeout_ms: int = Field(default=50, ge=1)

    # GeoIP database (mmdb); empty = no IP fallback.
    geoip_path: str = ""

    # HTTP behaviour.
    # Request bodies (docs/api.md, "Request bodies"): every request's cost is bounded by these.
    locate_body_limit: int = Field(default=64 * 1024, ge=1024)
    # Submissions as received (compressed): what can reach the function. A binary (gzip) body
    # travels base64-encoded (4/3 larger) inside Lambda's 6 MiB invocation payload, next to ~1 KiB
    # of request context and headers: 4.5 MiB − 1 KiB.
    submit_body_limit: int = Field(default=4_717_568, ge=1024)
    # After decompression: a full 2 000-report upload is ~2.5 MiB of JSON (4× fits), the app's
    # most verbose form of it (20 Wi-Fi with SSIDs + 3 cells, every field) ~8.5 MiB.
    submit_decompressed_limit: int = Field(default=12 * 1024 * 1024, ge=1024)
    # JSON values a submission may hold, counted before parsing (`{`, `[` and `,`): bounds what
    # `json.loads` builds. A full 2 000-report upload has ~160 000 (its verbose form ~480 000).
    submit_max_json_values: int = Field(default=600_000, ge=1000)
    # Reports (items) and Wi-Fi + Bluetooth + cell entries one submission may carry; more is a 413
    # before any of them is validated. Twice a full upload of 2 000 reports of 15 Wi-Fi + 1 cell.
    # A kept entry costs ~1 KB of memory until it is queued: the entry cap bounds a request's memory.
    submit_max_items: int = Field(default=4000, ge=1)
    submit_max_entries: int = Field(default=64_000, ge=1)
    # API keys: how long a looked-up key is kept (process and Redis), how long an unknown key is
    # remembered as unknown, and how many keys one process keeps (least recently used first out).
    api_key_cache_seconds: int = Field(default=300, ge=0)
    api_key_negative_cache_seconds: int = Field(default=30, ge=0)
    api_key_cache_size: int = Field(default=10_000, ge=1)
    submit_requires_key: bool = False
    # Locate/region access: "required" = every request needs a known key (the contract);
    # "optional" = a request without a key is served and identified by its User-Agent.
    openloc_key_policy: Literal["required", "optional"] = "required"
    # Limits of locate/region requests, counted in Redis per path (docs/api.md#limits); 0 = off.
    # Burst budget of each limited client (keyless User-Agent family, or key with a daily limit).
    limit_client_per_minute: int = Field(default=6000, ge=0)
    # Daily budget of each keyless client (User-Agent family); keys use their own `maxreq`.
    limit_agent_per_day: int = Field(default=100_000, ge=0)
    # What each source IP (IPv6: each /64) may still use of a client that is over its budget.
    # Keyless requests: also the cap of each address across all User-Agents and paths together.
    limit_ip_per_minute: int = Field(default=60, ge=0)
    limit_ip_per_day: int = Field(default=2000, ge=0)
    # Unknown keys one address may try per minute; past it, keys not yet cached are refused (429)
    # without a database read. 0 = no limit.
    limit_invalid_keys_per_minute: int = Field(default=20, ge=0)
    # Cache-Control max-age of successful /v1/region and /v1/country answers; 0 = no header.
    region_cache_seconds: int = Field(default=86400, ge=0)
    trusted_proxy_hops: int = Field(default=0, ge=0)
    # Behind CloudFront (docs/security.md): the Secrets Manager secret whose value CloudFront sends
    # as the X-Origin-Verify header. Set, every request without a current (or pending, or previous)
    # value is refused with 403, and the client IP is CloudFront's CloudFront-Viewer-Address.
    origin_secret_arn: str = ""
    # The distribution whose API origins the origin secret's rotation function updates.
    origin_distribution_id: str = ""
    # Anonymous (keyless) submissions per client IP and minute, all submission paths together;
    # 0 = no limit.
    submit_ip_limit_per_minute: int = Field(default=60, ge=0)
    # Key of the hashes that stand for client IPs in Redis counters and for API keys in the Redis
    # key cache and in submitted reports (neither IPs nor keys are stored in full). Read from the
    # Secrets Manager secret IP_HASH_KEY_SECRET_ARN when that is set (as deployed), else IP_HASH_KEY.
    ip_hash_key: str = "openloc"
    ip_hash_key_secret_arn: str = ""
    # Secrets (IP hash key, origin secret) are re-read from Secrets Manager after this long.
    secrets_cache_seconds: int = Field(default=300, ge=1)
    # CORS: origins allowed to call the API from a browser, comma-separated; "*" = any (the
    # public-API default: keys travel in the query string, no cookies, so no ambient authority).
    cors_allow_origins: str = "*"

    # Public cell export: cells with fewer samples are not published; parallel Scan segments
    # (threads) of the daily full export.
    cell_export_min_samples: int = Field(default=3, ge=1)
    cell_export_segments: int = Field(default=4, ge=1, le=64)
    # Sharded jobs (docs/operations.md, "Sharded jobs"): the work of one shard, sized from the
    # measured per-shard throughput so a shard stays well under 5 minutes (docs/benchmarks.md).
    # Cells per shard of the full cell export (each shard reads CELL_EXPORT_SEGMENTS segments).
    cell_export_shard_cells: int = Field(default=2_000_000, ge=1)
    # Stations (table items) per scan shard of the dumps and offline packs.
    publish_shard_stations: int = Field(default=1_000_000, ge=1)
    # Rows per offline pack / SQLite dump part (~33 bytes a row: 2.5 M rows stay under 100 MB).
    pack_part_rows: int = Field(default=2_500_000, ge=1)
    # Bytes of the uploaded CSV per shard of a sharded `openloc import`.
    import_shard_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Archive objects (SQS messages) per shard of a sharded `openloc replay`.
    replay_shard_objects: int = Field(default=200, ge=1)
    # Grid cells per render shard of the tiles job (a shard renders whole z6 blocks).
    tiles_shard_cells: int = Field(default=2_000_000, ge=1)
    # `POST /v1/transfer`: most station/area items one request may carry.
    transfer_max_items: int = Field(default=500, ge=1, le=5000)
    # Privacy and publication (docs/privacy.md).
    # Raw observation archive: objects older than this are ignored by `openloc replay` (the S3
    # lifecycle rule of the archive bucket deletes them after the same number of days, CDK context
    # `openloc:archive_retention_days`); 0 = kept forever.
    archive_retention_days: int = Field(default=365, ge=0)
    # Public Wi-Fi/Bluetooth dumps and offline packs: a station is published only with at least
    # this many samples and this many days between its first and its last observation.
    publish_min_samples: int = Field(default=10, ge=1)
    publish_min_days: int = Field(default=7, ge=0)
    # A station seen with an opt-out name ignores observations for this many days after.
    optout_hold_days: int = Field(default=365, ge=1)

    # The coverage map's raster base layer (streets and labels) for `openloc site build|publish` and
    # `make run` (a deployment sets it with the CDK context `openloc:basemap_url` & co.). Empty URL =
    # the country outlines, nothing loaded from another host. The URL template needs {z}, {x}, {y}
    # and https (plain http only on this machine); the attribution is required (docs/coverage-map.md).
    openloc_basemap_url: str = ""
    openloc_basemap_attribution: str = ""
    openloc_basemap_attribution_url: str = ""
    openloc_basemap_max_zoom: int = Field(default=19, ge=0, le=22)

    # Build information reported by /__version__.
    openloc_commit: str = "unknown"
    openloc_build_time: str = "unknown"
    openloc_source: str = "https://github.com/openloc/openloc"

    @field_validator("openloc_key_policy", mode="before")
    @classmethod
    def _policy_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (environment read once; tests call `get_settings.cache_clear()`)."""
    return Settings()
