"""Daily key limits (OPENLOC_KEY_POLICY=required, as deployed) and per-IP limits for anonymous
submissions, counted in the real Valkey."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openloc.local.stack import LocalStack
from openloc.model.records import ApiKeyRecord
from openloc.store.api_keys import DynamoApiKeyStore
from openloc.store.pynamodb_tables import bind_models

pytestmark = pytest.mark.integration

WIFI = {"wifiAccessPoints": [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]}


@pytest.fixture(scope="module")
def limited_stack() -> Iterator[LocalStack]:
    local = LocalStack(
        data_dir=None,
        port=0,
        run_poller=False,
        run_scheduler=False,
        env={"SUBMIT_IP_LIMIT_PER_MINUTE": "3", "GEOIP_PATH": "", "OPENLOC_KEY_POLICY": "required"},
    )
    with local:
        bind_models(local.settings)
        DynamoApiKeyStore().put(ApiKeyRecord(key="limited-key", maxreq=2))
        DynamoApiKeyStore().put(ApiKeyRecord(key="no-region", allow_region=False))
        yield local


def test_daily_limit_per_key_and_endpoint(limited_stack: LocalStack) -> None:
    with httpx.Client(base_url=limited_stack.url, timeout=20) as api:
        codes = [api.post("/v1/geolocate?key=limited-key", json=WIFI).status_code for _ in range(3)]
        assert codes == [200, 200, 403]
        over = api.post("/v1/geolocate?key=limited-key", json=WIFI).json()
        assert over["error"]["errors"][0] == {
            "domain": "usageLimits",
            "reason": "dailyLimitExceeded",
            "message": "You have exceeded your daily limit.",
        }
        # counted per endpoint: the search endpoint still has its own budget
        assert (
            api.post("/v1/search?key=limited-key", json={"wifi": [{"key": "001a2b000000"}]}).status_code
            == 200
        )


def test_required_policy_refuses_keyless_locate_whatever_the_user_agent(limited_stack: LocalStack) -> None:
    with httpx.Client(base_url=limited_stack.url, timeout=20) as api:
        for path in ["/v1/geolocate", "/v1/region", "/v1/search"]:
            response = api.post(path, json=WIFI, headers={"User-Agent": "microG/0.3.1"})
            assert response.status_code == 400
            assert response.json()["error"]["errors"][0]["reason"] == "keyInvalid"


def test_key_without_region_permission(limited_stack: LocalStack) -> None:
    with httpx.Client(base_url=limited_stack.url, timeout=20) as api:
        assert api.post("/v1/region?key=no-region", json=WIFI).json()["error"]["code"] == 400
        assert api.post("/v1/geolocate?key=no-region", json=WIFI).status_code == 200


def test_anonymous_submissions_are_limited_per_ip_with_a_retryable_answer(limited_stack: LocalStack) -> None:
    with httpx.Client(base_url=limited_stack.url, timeout=20) as api:
        codes = [api.post("/v2/geosubmit", json={"items": []}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 503]
        limited = api.post("/v2/geosubmit", json={"items": []})
        assert limited.status_code == 503
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["error"]["errors"][0]["reason"] == "serviceUnavailable"
        # a submission with a known key is attributed and not limited per IP
        assert api.post("/v2/geosubmit?key=test", json={"items": []}).status_code == 200
