"""Typed settings, read once from the environment.

Every knob of the service is an environment variable; the README's configuration table lists them.
The same names are used by the Lambda functions (set by the CDK stack) and by the embedded local
stack (set by `openloc run`). AWS endpoints come from the standard `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
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
    observations_queue_url: str = ""
    archive_bucket: str = "openloc-archive"
    assets_bucket: str = "openloc-assets"

    # Redis: API-key cache and rate limits. Empty = run without (no limits applied).
    redis_url: str = ""
    redis_timeout_ms: int = Field(default=50, ge=1)

    # GeoIP database (mmdb); empty = no IP fallback.
    geoip_path: str = ""

    # HTTP behaviour.
    locate_body_limit: int = Field(default=64 * 1024, ge=1024)
    submit_body_limit: int = Field(default=6 * 1024 * 1024, ge=1024)  # compressed, as received
    submit_decompressed_limit: int = Field(default=32 * 1024 * 1024, ge=1024)
    api_key_cache_seconds: int = Field(default=300, ge=0)
    submit_requires_key: bool = False
    trusted_proxy_hops: int = Field(default=0, ge=0)
    # Anonymous (keyless) submissions per client IP and minute; 0 = no limit.
    submit_ip_limit_per_minute: int = Field(default=60, ge=0)
    # Key of the hashes that stand for client IPs in Redis counters and for API keys in the Redis
    # key cache and in submitted reports (neither IPs nor keys are stored in full).
    ip_hash_key: str = "openloc"
    # CORS: origins allowed to call the API from a browser, comma-separated; "*" = any (the
    # public-API default: keys travel in the query string, no cookies, so no ambient authority).
    cors_allow_origins: str = "*"

    # Build information reported by /__version__.
    openloc_commit: str = "unknown"
    openloc_build_time: str = "unknown"
    openloc_source: str = "https://github.com/openloc/openloc"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (environment read once; tests call `get_settings.cache_clear()`)."""
    return Settings()
