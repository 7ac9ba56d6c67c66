"""The typed environment reader: defaults, variables, overrides and the errors bad values get."""

from __future__ import annotations

import pytest
from openloc.settings import FIELD_NAMES, Settings, SettingsError, get_settings


def test_defaults_without_environment() -> None:
    settings = Settings(environ={})
    assert settings.aws_region == "us-east-1"
    assert settings.aws_endpoint_url is None
    assert settings.stations_table == "openloc-stations"
    assert settings.submit_body_limit == 4_717_568
    assert settings.submit_requires_key is False
    assert settings.openloc_key_policy == "required"
    assert Settings.default("stations_table") == "openloc-stations"


def test_variables_are_upper_case_field_names_matched_case_insensitively() -> None:
    settings = Settings(
        environ={
            "STATIONS_TABLE": "t1",
            "redis_timeout_ms": "75",
            "Submit_Requires_Key": "yes",
            "AWS_REGION": "eu-central-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
            "OPENLOC_KEY_POLICY": " Optional ",
        }
    )
    assert settings.stations_table == "t1"
    assert settings.redis_timeout_ms == 75
    assert settings.submit_requires_key is True
    assert settings.aws_region == "eu-central-1"
    assert settings.aws_endpoint_url == "http://127.0.0.1:5000"
    assert settings.openloc_key_policy == "optional"
    assert Settings.variable("aws_region") == "AWS_REGION"


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "3")
    monkeypatch.setenv("IP_HASH_KEY", "from-env")
    settings = Settings(trusted_proxy_hops=1)
    assert settings.trusted_proxy_hops == 1
    assert settings.ip_hash_key == "from-env"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRUSTED_PROXY_HOPS", "two", "expected an integer"),
        ("TRUSTED_PROXY_HOPS", "-1", "must be ≥ 0"),
        ("CELL_EXPORT_SEGMENTS", "65", "must be ≤ 64"),
        ("LOCATE_BODY_LIMIT", "1023", "must be ≥ 1024"),
        ("SUBMIT_REQUIRES_KEY", "maybe", "expected true or false"),
        ("OPENLOC_KEY_POLICY", "sometimes", "must be one of required, optional"),
        ("STATION_CACHE_SECONDS", "1.5", "expected an integer"),
    ],
)
def test_bad_values_name_their_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings(environ={variable: value})
    assert variable in str(raised.value)
    assert message in str(raised.value)


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings(environ={"REDIS_TIMEOUT_MS": "0", "TRANSFER_MAX_ITEMS": "x"})
    assert [problem.split(":")[0] for problem in raised.value.problems] == [
        "REDIS_TIMEOUT_MS",
        "TRANSFER_MAX_ITEMS",
    ]


def test_bad_overrides_are_rejected_too() -> None:
    with pytest.raises(SettingsError, match="LIMIT_IP_PER_DAY"):
        Settings(environ={}, limit_ip_per_day=-5)
    with pytest.raises(SettingsError, match="SUBMIT_MAX_ITEMS"):
        Settings(environ={}, submit_max_items=True)
    with pytest.raises(TypeError, match="stations_tabel"):
        Settings(environ={}, stations_tabel="typo")


def test_settings_stay_assignable_and_comparable() -> None:
    settings = Settings(environ={})
    settings.submit_decompressed_limit = 2048  # tests tune a live app's settings
    assert settings.submit_decompressed_limit == 2048
    assert Settings(environ={}) == Settings(environ={})
    assert set(FIELD_NAMES) >= {"stations_table", "geoip_path", "station_cache_entries"}


def test_get_settings_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("ASSETS_BUCKET", "first")
    first = get_settings()
    monkeypatch.setenv("ASSETS_BUCKET", "second")
    assert get_settings() is first
    assert first.assets_bucket == "first"
    get_settings.cache_clear()
    assert get_settings().assets_bucket == "second"
    get_settings.cache_clear()
