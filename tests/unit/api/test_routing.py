"""Which Lambda serves which path, and API paths versus website paths."""

from __future__ import annotations

import pytest
from openloc.api.routing import function_for_path, is_api_path


def test_routed_to_submit_function() -> None:
    assert function_for_path("/v1/transfer") == "submit"


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/v1/geolocate", True),
        ("/v2/geosubmit", True),
        ("/__heartbeat__", True),
        ("/openapi.json", True),
        ("/", False),
        ("/index.html", False),
        ("/tiles/13/4401/2686.png", False),
        ("/downloads.json", False),
        ("/exports/cells/full/x.csv.gz", False),
        ("/v1", False),
    ],
)
def test_api_paths_versus_site_paths(path: str, api: bool) -> None:
    assert is_api_path(path) is api
