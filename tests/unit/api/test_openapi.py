"""The OpenAPI document: every served path, resolvable references, and what it says per key policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openloc.api.openapi import openapi_document
from openloc.api.routing import ROUTES
from openloc.api.services import Services
from starlette.testclient import TestClient

from tests.unit.api.support import Client, _services


def test_openapi_lists_post_paths_and_resolvable_refs(services: Services) -> None:
    doc = openapi_document()
    assert doc["openapi"].startswith("3.1")
    posts = {p for p, ops in doc["paths"].items() if "post" in ops}
    served = {route.path for route in ROUTES if "POST" in route.methods}
    assert posts == served
    assert {"/v1/geolocate", "/v1/region", "/v1/country", "/v1/search", "/v2/geosubmit"} <= posts
    schemas = doc["components"]["schemas"]
    assert {"LocateRequest", "GeolocateResponse", "ErrorResponse", "GeosubmitRequest"} <= set(schemas)
    geolocate = doc["paths"]["/v1/geolocate"]["post"]
    assert geolocate["parameters"][0]["required"] is True
    assert doc["paths"]["/v2/geosubmit"]["post"]["parameters"][0]["required"] is False
    assert {"400", "404", "503"} <= set(geolocate["responses"])
    assert "204" in doc["paths"]["/v1/submit"]["post"]["responses"]

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas


def test_openapi_json_lists_all_post_paths(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {p for p, ops in paths.items() if "post" in ops} == {
        "/v1/geolocate",
        "/v1/region",
        "/v1/country",
        "/v1/search",
        "/v2/geosubmit",
        "/v1/geosubmit",
        "/v1/submit",
        "/v1/transfer",
    }


def test_openapi_follows_the_key_policy(make_services: Callable[..., Services], make_client: Client) -> None:
    for policy, required in [("required", True), ("optional", False)]:
        doc = make_client(_services(make_services, openloc_key_policy=policy)).get("/openapi.json").json()
        geolocate = doc["paths"]["/v1/geolocate"]["post"]
        assert geolocate["parameters"][0]["required"] is required
        assert any(p["name"] == "User-Agent" for p in geolocate["parameters"]) is not required
        assert "429" in geolocate["responses"]
        assert "429" not in doc["paths"]["/v2/geosubmit"]["post"]["responses"]


def test_openapi_documents_transfer(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    operation = doc["paths"]["/v1/transfer"]["post"]
    assert operation["parameters"][0]["required"] is True
    assert "TransferRequest" in doc["components"]["schemas"]
    assert {"CellItem", "StationItem", "CellAreaItem"} <= set(doc["components"]["schemas"])


def test_openapi_documents_hashed_id(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "hashedId" in schemas["WifiAccessPoint"]["properties"]
    assert "hashedId" in schemas["BluetoothBeacon"]["properties"]


def test_every_served_method_is_documented(services: Services) -> None:
    """GET on the locate family (Ichnaea's IP-only query) included: schemathesis fuzzes exactly
    what the document lists."""
    doc = openapi_document()
    served = {
        (route.path, method.lower()) for route in ROUTES for method in route.methods if method != "HEAD"
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert served == documented - {("/openapi.json", "get")}
    get = doc["paths"]["/v1/geolocate"]["get"]
    assert "requestBody" not in get and "413" not in get["responses"]
    assert get["parameters"] == doc["paths"]["/v1/geolocate"]["post"]["parameters"]
