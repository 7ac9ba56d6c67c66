"""The OpenAPI 3.1 document, generated from the pydantic wire schemas (served at /openapi.json)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from openloc import __version__
from openloc.api import schemas as s

_KEY_PARAM = {
    "name": "key",
    "in": "query",
    "description": "API key: letters, digits and '-', up to 40 characters",
    "schema": {"type": "string", "maxLength": 40, "pattern": "^[-0-9A-Za-z]+$"},
}
_USER_AGENT_PARAM = {
    "name": "User-Agent",
    "in": "header",
    "description": "identifies a keyless client (OPENLOC_KEY_POLICY=optional): 'Name/version'",
    "schema": {"type": "string"},
}
_ERRORS = {
    "400": "parseError (body not a JSON object), keyInvalid or userAgentRequired",
    "403": "dailyLimitExceeded (key over its daily limit; Retry-After); transfer: transferNotAllowed",
    "405": "methodNotAllowed",
    "413": "payloadTooLarge",
    "503": "serviceUnavailable",
}

_TOO_MANY = "429"
_ERRORS_EXTRA = {
    _TOO_MANY: "rateLimitExceeded (client or address over a budget, or too many unknown keys; Retry-After)",
    "404": "notFound",
}

# Whether an operation needs `?key=`: never (submissions), as OPENLOC_KEY_POLICY says (the locate
# family), or always (the private instance sync).
KeyUse = Literal["never", "policy", "always"]
_Operation = tuple[str, type[BaseModel] | None, type[BaseModel] | None, str, KeyUse, tuple[str, ...]]

# path → (summary, request model, response model, success status, key use, extra error statuses)
_OPERATIONS: dict[str, _Operation] = {
    "/v1/geolocate": (
        "Locate from Wi-Fi, cells, Bluetooth or IP",
        s.LocateRequest,
        s.GeolocateResponse,
        "200",
        "policy",
        ("404", _TOO_MANY),
    ),
    "/v1/region": (
        "Country of the client (cells' MCC, position or IP)",
        s.LocateRequest,
        s.RegionResponse,
        "200",
        "policy",
        ("404", _TOO_MANY),
    ),
    "/v1/country": (
        "Legacy alias of /v1/region",
        s.LocateRequest,
        s.RegionResponse,
        "200",
        "policy",
        ("404", _TOO_MANY),
    ),
    "/v1/search": (
        "Legacy locate (MLS v1/search)",
        s.SearchRequest,
        s.SearchResponse,
        "200",
        "policy",
        (_TOO_MANY,),
    ),
    "/v2/geosubmit": ("Submit observations (v2)", s.GeosubmitRequest, s.EmptyResponse, "200", "never", ()),
    "/v1/geosubmit": (
        "Submit observations (v1, flat items)",
        s.GeosubmitV1Request,
        s.EmptyResponse,
        "200",
        "never",
        (),
    ),
    "/v1/submit": ("Submit observations (legacy)", s.LegacySubmitRequest, None, "204", "never", ()),
}


def _transfer_operation() -> _Operation:
    """Deferred: the exchange models are not needed on the locate import path."""
    from openloc.model.exchange import TransferRequest

    summary = "Instance sync: merge aggregated stations and cell areas (keys with the transfer permission)"
    return (summary, TransferRequest, s.EmptyResponse, "200", "always", (_TOO_MANY,))


_MONITORS: dict[str, tuple[str, type[BaseModel]]] = {
    "/__heartbeat__": ("Backend health (503 when a backend is down)", s.HeartbeatResponse),
    "/__lbheartbeat__": ("Process alive", s.LbHeartbeatResponse),
    "/__version__": ("Version, commit and build time", s.VersionResponse),
}


# `openloc.publish.offline.pack_region`'s spelling of a region, for the path parameter.
REGION_PATTERN = "^(?:[A-Za-z]{2}|(?:[Mm][Cc][Cc]-)?[0-9]{3})$"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(model)}}


@lru_cache(maxsize=2)
def openapi_document(key_policy: str = "required") -> dict[str, Any]:
    """The document for a deployment's `OPENLOC_KEY_POLICY`: with "optional", locate keys are optional
    and the User-Agent header that identifies keyless clients is listed."""
    models: list[type[BaseModel]] = [s.ErrorResponse]
    paths: dict[str, Any] = {}
    operations = {**_OPERATIONS, "/v1/transfer": _transfer_operation()}
    for path, (summary, request, response, ok, key_use, extra) in operations.items():
        key_required = key_use == "always" or (key_use == "policy" and key_policy == "required")
        parameters: list[dict[str, Any]] = [{**_KEY_PARAM, "required": key_required}]
        if key_use == "policy" and not key_required:
            parameters.append(_USER_AGENT_PARAM)
        responses: dict[str, Any] = {ok: {"description": "success"}}
        if response is not None:
            responses[ok]["content"] = _json(response)
            models.append(response)
        for status in (*_ERRORS, *extra):
            responses[status] = {
                "description": _ERRORS.get(status) or _ERRORS_EXTRA[status],
                "content": _json(s.ErrorResponse),
            }
        operation: dict[str, Any] = {
            "summary": summary,
            "parameters": parameters,
            "responses": responses,
        }
        paths[path] = {}
        if key_use == "policy":
            # The locate family also answers GET: the IP-only query of an empty POST (Ichnaea's).
            paths[path]["get"] = {
                **operation,
                "summary": f"{summary}: by the client's IP only, like an empty POST",
                "responses": {k: v for k, v in responses.items() if k != "413"},
            }
        if request is not None:
            operation["requestBody"] = {"required": False, "content": _json(request)}
            models.append(request)
        paths[path]["post"] = operation
    for path, (summary, response) in _MONITORS.items():
        paths[path] = {
            "get": {
                "summary": summary,
                "responses": {"200": {"description": "ok", "content": _json(response)}},
            }
        }
        models.append(response)
    paths["/v1/offline/{region}"] = {
        "get": {
            "summary": "Newest offline pack of a country or MCC (from downloads.json; no key)",
            "parameters": [
                {
                    "name": "region",
                    "in": "path",
                    "required": True,
                    "description": 'ISO 3166 alpha-2 code ("DE") or "mcc-262" (ASCII letters and digits)',
                    "schema": {"type": "string", "pattern": REGION_PATTERN},
                }
            ],
            "responses": {
                "200": {"description": "the pack's manifest entry", "content": _json(s.OfflinePackResponse)},
                "404": {
                    "description": "notFound: unknown region, or no pack yet",
                    "content": _json(s.ErrorResponse),
                },
                "503": {"description": "serviceUnavailable", "content": _json(s.ErrorResponse)},
            },
        }
    }
    models.append(s.OfflinePackResponse)
    paths["/__heartbeat__"]["get"]["responses"]["503"] = {
        "description": "a backend is down",
        "content": _json(s.HeartbeatResponse),
    }
    _, definitions = models_json_schema(
        [
            (m, "validation" if m in {o[1] for o in operations.values()} else "serialization")
            for m in dict.fromkeys(models)
        ],
        ref_template="#/components/schemas/{model}",
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OpenLoc",
            "version": __version__,
            "description": "Ichnaea- and Google Geolocation-compatible location service.",
        },
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {})},
    }
