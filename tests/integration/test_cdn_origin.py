"""The CDN variant on the local stack: the functions run with `ORIGIN_SECRET_ARN` (a secret in
moto's Secrets Manager), as `openloc:api_behind_cdn=true` deploys them. The local API Gateway
emulation plays the origin; a test request that adds the origin secret and
`CloudFront-Viewer-Address` plays CloudFront."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openloc.geo.distance import haversine_m
from openloc.local.stack import LocalStack
from openloc.store.aws import client

from tests.geoip_files import LONDON, write_city_mmdb

pytestmark = pytest.mark.integration

ORIGIN_SECRET = "origin-secret-for-the-test-0123456789"
WIFI = {"wifiAccessPoints": [{"macAddress": "00:1a:2b:00:00:00"}, {"macAddress": "00:1a:2b:00:00:01"}]}


@pytest.fixture(scope="module")
def cdn_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    path = write_city_mmdb(tmp_path_factory.mktemp("geoip") / "test-city.mmdb")
    with LocalStack(
        data_dir=None,
        port=0,
        run_poller=False,
        run_scheduler=False,
        env={"GEOIP_PATH": path, "OPENLOC_KEY_POLICY": "optional", "LIMIT_IP_PER_MINUTE": "2"},
        secrets={"ORIGIN_SECRET_ARN": ORIGIN_SECRET},
    ) as local:
        yield local


@pytest.fixture
def api(cdn_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cdn_stack.url, timeout=20) as session:
        yield session


def via_cloudfront(viewer: str, secret: str = ORIGIN_SECRET, forwarded: str | None = None) -> dict[str, str]:
    """The headers of an origin request from CloudFront: the origin secret and the viewer address
    (with whatever X-Forwarded-For the viewer sent, which CloudFront extends)."""
    headers = {"X-Origin-Verify": secret, "CloudFront-Viewer-Address": viewer, "User-Agent": "Rotating/1.0"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    return headers


def test_a_request_straight_to_the_origin_cannot_choose_its_address(api: httpx.Client) -> None:
    """The attack: straight to API Gateway with `X-Forwarded-For: 9.9.9.9`, taken as 9.9.9.9."""
    for method, path in (
        ("POST", "/v1/geolocate?key=test"),
        ("POST", "/v2/geosubmit"),
        ("GET", "/__heartbeat__"),
    ):
        response = api.request(method, path, json={}, headers={"X-Forwarded-For": "9.9.9.9"})
        assert response.status_code == 403
        assert response.json()["error"]["errors"][0]["reason"] == "forbidden"
    forged = via_cloudfront("81.2.69.142:443", secret="not-the-secret")
    assert api.post("/v1/geolocate?key=test", json={}, headers=forged).status_code == 403


def test_through_cloudfront_the_viewer_address_is_the_client(api: httpx.Client) -> None:
    headers = via_cloudfront("81.2.69.142:51234", forwarded="9.9.9.9, 81.2.69.142")
    response = api.post("/v1/geolocate?key=test", json={}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["fallback"] == "ipf"
    assert haversine_m(body["location"]["lat"], body["location"]["lng"], *LONDON) < 1
    # limits count the viewer address, whatever X-Forwarded-For says
    codes = [
        api.post(
            "/v1/geolocate",
            json=WIFI,
            headers=via_cloudfront("198.51.100.60:443", forwarded=f"203.0.113.{i}"),
        ).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 429, 429]
    assert (
        api.post("/v1/geolocate", json=WIFI, headers=via_cloudfront("198.51.100.61:443")).status_code == 200
    )


def test_a_rotated_secret_is_accepted_while_cloudfront_changes_over(
    cdn_stack: LocalStack, api: httpx.Client
) -> None:
    arn = cdn_stack.settings.origin_secret_arn
    manager = client("secretsmanager")
    manager.put_secret_value(
        SecretId=arn, SecretString="the-next-origin-secret-abcdef", VersionStages=["AWSPENDING"]
    )
    for secret in ("the-next-origin-secret-abcdef", ORIGIN_SECRET):  # new edges, old edges
        assert (
            api.get(
                "/__lbheartbeat__", headers=via_cloudfront("198.51.100.62:443", secret=secret)
            ).status_code
            == 200
        )
    stages = manager.describe_secret(SecretId=arn)["VersionIdsToStages"]
    pending = next(version for version, labels in stages.items() if "AWSPENDING" in labels)
    current = next(version for version, labels in stages.items() if "AWSCURRENT" in labels)
    manager.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=pending, RemoveFromVersionId=current
    )
    for secret in ("the-next-origin-secret-abcdef", ORIGIN_SECRET):  # current and previous
        assert (
            api.get(
                "/__lbheartbeat__", headers=via_cloudfront("198.51.100.62:443", secret=secret)
            ).status_code
            == 200
        )
