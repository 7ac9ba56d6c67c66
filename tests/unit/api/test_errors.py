"""The contract's error envelope and messages."""

from __future__ import annotations

from typing import Any

import pytest
from openloc.api import errors
from openloc.api.errors import ApiError


@pytest.mark.parametrize(
    ("factory", "status", "domain", "reason"),
    [
        (errors.parse_error, 400, "global", "parseError"),
        (errors.key_invalid, 400, "usageLimits", "keyInvalid"),
        (errors.daily_limit, 403, "usageLimits", "dailyLimitExceeded"),
        (errors.not_found, 404, "geolocation", "notFound"),
        (errors.unknown_path, 404, "global", "notFound"),
        (errors.payload_too_large, 413, "global", "payloadTooLarge"),
        (errors.service_unavailable, 503, "global", "serviceUnavailable"),
    ],
)
def test_error_envelope_shape(factory: Any, status: int, domain: str, reason: str) -> None:
    error: ApiError = factory()
    body = error.body()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"errors", "code", "message"}
    assert body["error"]["code"] == status == error.status
    (detail,) = body["error"]["errors"]
    assert detail == {"domain": domain, "reason": reason, "message": body["error"]["message"]}


def test_contract_messages() -> None:
    assert errors.key_invalid().message == "Missing or invalid API key."
    assert errors.parse_error().message == "Parse Error"
    assert errors.not_found().message == "Not found"
    assert errors.daily_limit().message == "You have exceeded your daily limit."
    assert errors.service_unavailable().message == "Service Unavailable"


def test_method_not_allowed_carries_allow_header() -> None:
    error = errors.method_not_allowed("POST")
    assert error.status == 405 and ("Allow", "POST") in error.headers
