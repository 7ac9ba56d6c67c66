"""Which Lambda function serves which path (API Gateway routes; the local proxy does the same),
and which paths belong to the API at all (CloudFront sends the others to the website bucket)."""

from __future__ import annotations

# The submit function also serves instance sync (/v1/transfer): both write data, neither is on
# the locate hot path.
SUBMIT_PATHS = frozenset({"/v2/geosubmit", "/v1/geosubmit", "/v1/submit", "/v1/transfer"})
# CloudFront behaviours that go to API Gateway; every other path is served from the assets bucket.
API_PATH_PREFIXES = ("/v1/", "/v2/", "/__")
API_PATHS = frozenset({"/openapi.json"})


def function_for_path(path: str) -> str:
    """`submit` for submission paths, `locate` for everything else (including unknown paths → 404)."""
    return "submit" if path in SUBMIT_PATHS else "locate"


def is_api_path(path: str) -> bool:
    """True for the API's paths (`/v1/*`, `/v2/*`, `/__*`, `/openapi.json`), False for the website."""
    return path in API_PATHS or path.startswith(API_PATH_PREFIXES)
