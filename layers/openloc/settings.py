"""Typed settings, read once from the environment.

Every knob of the service is an environment variable; the README's configuration table lists them.
The same names are used by the Lambda functions (set by the CDK stack) and by the embedded local
stack (set by `openloc run`). AWS endpoints come from the standard `AWS_ENDPOINT_URL`.

A plain typed reader (no pydantic-settings: its imports alone cost ~80 ms of every cold start,
docs/benchmarks.md). Each field is declared once with its type, default and bounds; the variable
is the field's name in upper case (matched case-insensitively) unless the field names another.
`Settings(**overrides)` reads the environment for every field not given; a bad value, from the
environment or an override, raises `SettingsError` naming every offending variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, Literal, cast

KeyPolicy = Literal["required", "optional"]
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class SettingsError(ValueError):
    """One or more settings have values of the wrong type or out of their bounds."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid settings: " + "; ".join(problems))
        self.problems = problems


Parser = Callable[[object], object]


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _integer(ge: int | None, le: int | None) -> Parser:
    def parse(value: object) -> int:
        if isinstance(value, bool):
            raise ValueError("expected an integer, got a boolean")
        if isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                raise ValueError(f"expected an integer, got {value!r}") from None
        elif isinstance(value, int):
            number = value
        else:
            raise ValueError(f"expected an integer, got {type(value).__name__}")
        if ge is not None and number < ge:
            raise ValueError(f"must be ≥ {ge}, got {number}")
        if le is not None and number > le:
            raise ValueError(f"must be ≤ {le}, got {number}")
        return number

    return parse


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"expected true or false, got {value!r}")


def _choice(options: tuple[str, ...]) -> Parser:
    def parse(value: object) -> str:
        text = _text(value).strip().lower()
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {value!r}")
        return text

    return parse


def _setting(default: Any, parse: Parser, env: str | None) -> Any:
    return field(default=default, metadata={"parse": parse, "env": env})


def text(default: str, *, env: str | None = None) -> str:
    return cast(str, _setting(default, _text, env))


def optional_text(*, env: str | None = None) -> str | None:
    return cast("str | None", _setting(None, _optional_text, env))


def integer(default: int, *, ge: int | None = None, le: int | None = None) -> int:
    return cast(int, _setting(default, _integer(ge, le), None))


def flag(default: bool) -> bool:
    return cast(bool, _setting(default, _flag, None))


def choice(default: str, options: tuple[str, ...]) -> Any:
    return _setting(default, _choice(options), None)


@dataclass(init=False)
class Settings:
    """Service configuration. Field names map to upper-case environment variables."""

    # AWS resources (names as created by the CDK stack and by the local stack).
    aws_region: str = text("us-east-1", env="AWS_REGION")
    aws_endpoint_url: str | None = optional_text(env="AWS_ENDPOINT_URL")
    stations_table: str = text("openloc-stations")
    cell_areas_table: str = text("openloc-cell-areas")
    api_keys_table: str = text("openloc-api-keys")
    datamap_table: str = text("openloc-datamap")
    stats_table: str = text("openloc-stats")
    processed_table: str = text("openloc-processed")
    sources_table: str = text("openloc-sources")
    observations_queue_url: str = text("")
    archive_bucket: str = text("openloc-archive")
    assets_bucket: str = text("openloc-assets")

    # Redis: API-key cache and rate limits. Empty = run without (no limits applied).
    redis_url: str = text("")
    redis_timeout_ms: int = integer(50, ge=1)

    # GeoIP database (mmdb or compact .olgeo files); empty = no IP fallback.
    geoip_path: str = text("")

    # Station records kept by each locate instance (`store.station_cache`): most entries, and
    # seconds an entry (found or not) is reused before DynamoDB is asked again; 0 = no cache.
    station_cache_entries: int = integer(20_000, ge=0)
    station_cache_seconds: int = integer(60, ge=0)

    # HTTP behaviour.
    # Request bodies (docs/api.md, "Request bodies"): every request's cost is bounded by these.
    locate_body_limit: int = integer(64 * 1024, ge=1024)
    # Submissions as received (compressed): what can reach the function. A binary (gzip) body
    # travels base64-encoded (4/3 larger) inside Lambda's 6 MiB invocation payload, next to ~1 KiB
    # of request context and headers: 4.5 MiB − 1 KiB.
    submit_body_limit: int = integer(4_717_568, ge=1024)
    # After decompression: a full 2 000-report upload is ~2.5 MiB of JSON (4× fits), the app's
    # most verbose form of it (20 Wi-Fi with SSIDs + 3 cells, every field) ~8.5 MiB.
    submit_decompressed_limit: int = integer(12 * 1024 * 1024, ge=1024)
    # JSON values a submission may hold, counted before parsing (`{`, `[` and `,`): bounds what
    # `json.loads` builds. A full 2 000-report upload has ~160 000 (its verbose form ~480 000).
    submit_max_json_values: int = integer(600_000, ge=1000)
    # Reports (items) and Wi-Fi + Bluetooth + cell entries one submission may carry; more is a 413
    # before any of them is validated. Twice a full upload of 2 000 reports of 15 Wi-Fi + 1 cell.
    # A kept entry costs ~1 KB of memory until it is queued: the entry cap bounds a request's memory.
    submit_max_items: int = integer(4000, ge=1)
    submit_max_entries: int = integer(64_000, ge=1)
    # API keys: how long a looked-up key is kept (process and Redis), how long an unknown key is
    # remembered as unknown, and how many keys one process keeps (least recently used first out).
    api_key_cache_seconds: int = integer(300, ge=0)
    api_key_negative_cache_seconds: int = integer(30, ge=0)
    api_key_cache_size: int = integer(10_000, ge=1)
    submit_requires_key: bool = flag(False)
    # Locate/region access: "required" = every request needs a known key (the contract);
    # "optional" = a request without a key is served and identified by its User-Agent.
    openloc_key_policy: KeyPolicy = choice("required", ("required", "optional"))  # noqa: RUF009
    # Limits of locate/region requests, counted in Redis per path (docs/api.md#limits); 0 = off.
    # Burst budget of each limited client (keyless User-Agent family, or key with a daily limit).
    limit_client_per_minute: int = integer(6000, ge=0)
    # Daily budget of each keyless client (User-Agent family); keys use their own `maxreq`.
    limit_agent_per_day: int = integer(100_000, ge=0)
    # What each source IP (IPv6: each /64) may still use of a client that is over its budget.
    # Keyless requests: also the cap of each address across all User-Agents and paths together.
    limit_ip_per_minute: int = integer(60, ge=0)
    limit_ip_per_day: int = integer(2000, ge=0)
    # Unknown keys one address may try per minute; past it, keys not yet cached are refused (429)
    # without a database read. 0 = no limit.
    limit_invalid_keys_per_minute: int = integer(20, ge=0)
    # Cache-Control max-age of successful /v1/region and /v1/country answers; 0 = no header.
    region_cache_seconds: int = integer(86400, ge=0)
    trusted_proxy_hops: int = integer(0, ge=0)
    # Behind CloudFront (docs/security.md): the Secrets Manager secret whose value CloudFront sends
    # as the X-Origin-Verify header. Set, every request without a current (or pending, or previous)
    # value is refused with 403, and the client IP is CloudFront's CloudFront-Viewer-Address.
    origin_secret_arn: str = text("")
    # The distribution whose API origins the origin secret's rotation function updates.
    origin_distribution_id: str = text("")
    # Anonymous (keyless) submissions per client IP and minute, all submission paths together;
    # 0 = no limit.
    submit_ip_limit_per_minute: int = integer(60, ge=0)
    # Key of the hashes that stand for client IPs in Redis counters and for API keys in the Redis
    # key cache and in submitted reports (neither IPs nor keys are stored in full). Read from the
    # Secrets Manager secret IP_HASH_KEY_SECRET_ARN when that is set (as deployed), else IP_HASH_KEY.
    ip_hash_key: str = text("openloc")
    ip_hash_key_secret_arn: str = text("")
    # Secrets (IP hash key, origin secret) are re-read from Secrets Manager after this long.
    secrets_cache_seconds: int = integer(300, ge=1)
    # CORS: origins allowed to call the API from a browser, comma-separated; "*" = any (the
    # public-API default: keys travel in the query string, no cookies, so no ambient authority).
    cors_allow_origins: str = text("*")

    # Public cell export: cells with fewer samples are not published; parallel Scan segments
    # (threads) of the daily full export.
    cell_export_min_samples: int = integer(3, ge=1)
    cell_export_segments: int = integer(4, ge=1, le=64)
    # Sharded jobs (docs/operations.md, "Sharded jobs"): the work of one shard, sized from the
    # measured per-shard throughput so a shard stays well under 5 minutes (docs/benchmarks.md).
    # Cells per shard of the full cell export (each shard reads CELL_EXPORT_SEGMENTS segments).
    cell_export_shard_cells: int = integer(2_000_000, ge=1)
    # Stations (table items) per scan shard of the dumps and offline packs.
    publish_shard_stations: int = integer(1_000_000, ge=1)
    # Rows per offline pack / SQLite dump part (~43 bytes a row: 2 M rows stay under 100 MB).
    pack_part_rows: int = integer(2_000_000, ge=1)
    # Bytes of the uploaded CSV per shard of a sharded `openloc import`.
    import_shard_bytes: int = integer(64 * 1024 * 1024, ge=1024)
    # Archive objects (SQS messages) per shard of a sharded `openloc replay`.
    replay_shard_objects: int = integer(200, ge=1)
    # Grid cells per render shard of the tiles job (a shard renders whole z6 blocks).
    tiles_shard_cells: int = integer(2_000_000, ge=1)
    # `POST /v1/transfer`: most station/area items one request may carry.
    transfer_max_items: int = integer(500, ge=1, le=5000)
    # Privacy and publication (docs/privacy.md).
    # Raw observation archive: objects older than this are ignored by `openloc replay` (the S3
    # lifecycle rule of the archive bucket deletes them after the same number of days, CDK context
    # `openloc:archive_retention_days`); 0 = kept forever.
    archive_retention_days: int = integer(365, ge=0)
    # Public Wi-Fi/Bluetooth dumps and offline packs: a station is published only with at least
    # this many samples and this many days between its first and its last observation.
    publish_min_samples: int = integer(10, ge=1)
    publish_min_days: int = integer(7, ge=0)
    # A station seen with an opt-out name ignores observations for this many days after.
    optout_hold_days: int = integer(365, ge=1)

    # The coverage map's raster base layer (streets and labels) for `openloc site build|publish` and
    # `make run` (a deployment sets it with the CDK context `openloc:basemap_url` & co.). Empty URL =
    # the country outlines, nothing loaded from another host. The URL template needs {z}, {x}, {y}
    # and https (plain http only on this machine); the attribution is required (docs/coverage-map.md).
    openloc_basemap_url: str = text("")
    openloc_basemap_attribution: str = text("")
    openloc_basemap_attribution_url: str = text("")
    openloc_basemap_max_zoom: int = integer(19, ge=0, le=22)

    # Build information reported by /__version__.
    openloc_commit: str = text("unknown")
    openloc_build_time: str = text("unknown")
    openloc_source: str = text("https://github.com/openloc/openloc")

    def __init__(self, *, environ: Mapping[str, str] | None = None, **overrides: Any) -> None:
        """Every field from `overrides`, else from the environment (`environ`, default
        `os.environ`), else its default. Unknown override names are a TypeError."""
        unknown = set(overrides) - set(FIELD_NAMES)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        env = {key.lower(): value for key, value in (os.environ if environ is None else environ).items()}
        problems: list[str] = []
        for spec in fields(Settings):
            variable = spec.metadata["env"] or spec.name.upper()
            if spec.name in overrides:
                raw: object = overrides[spec.name]
            elif variable.lower() in env:
                raw = env[variable.lower()]
            else:
                object.__setattr__(self, spec.name, spec.default)
                continue
            try:
                value = spec.metadata["parse"](raw)
            except ValueError as error:
                problems.append(f"{variable}: {error}")
                continue
            object.__setattr__(self, spec.name, value)
        if problems:
            raise SettingsError(problems)

    @classmethod
    def default(cls, name: str) -> Any:
        """The default of a field (not the environment's value: e.g. the CDK synth's names)."""
        return _DEFAULTS[name]

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of a field."""
        return _VARIABLES[name]


FIELD_NAMES: tuple[str, ...] = tuple(spec.name for spec in fields(Settings))
_DEFAULTS: dict[str, Any] = {spec.name: spec.default for spec in fields(Settings)}
_VARIABLES: dict[str, str] = {
    spec.name: spec.metadata["env"] or spec.name.upper() for spec in fields(Settings)
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (environment read once; tests call `get_settings.cache_clear()`)."""
    return Settings()
