"""Which Lambda function serves which path (API Gateway routes; the local proxy does the same)."""

from __future__ import annotations

# The submit function also serves instance sync (/v1/transfer): both write data, neither is on
# the locate hot path.
SUBMIT_PATHS = frozenset({"/v2/geosubmit", "/v1/geosubmit", "/v1/submit", "/v1/transfer"})


def function_for_path(path: str) -> str:
    """`submit` for submission paths, `locate` for everything else (including unknown paths → 404)."""
    return "submit" if path in SUBMIT_PATHS else "locate"
