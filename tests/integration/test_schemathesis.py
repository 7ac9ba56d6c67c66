"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis).

Every operation of `/openapi.json` gets schemathesis' deterministic coverage phase (boundary and
schema-violating values of every field, wrong methods) and a fuzzing phase of random bodies, in
positive and negative mode, sent over HTTP to the embedded local stack (API Gateway emulation →
the real Lambda handlers → moto). Checks: no 5xx, the status is one the document lists, the
Content-Type and the body match the documented schema (so every error is the envelope), plus the
envelope's own invariants. In total well over 2 000 requests.

Not checked, on purpose: schemathesis' `negative_data_rejection`. The contract requires lenience
(docs/api.md): a field of the wrong type is dropped, never a 4xx, so schema-violating bodies
are answered like valid ones. Positive cases carry the demo key, so bodies reach the real locate
path rather than stopping at the key check; negative cases keep their generated (invalid) keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openloc.api.openapi import openapi_document
from openloc.local.stack import LocalStack
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import NO_GEOIP

pytestmark = pytest.mark.integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MIN_CASES = 2_000
# Random nested bodies are what costs time (hypothesis generation, not the server): 30 per
# operation keeps the module near 30 s of CPU; the coverage phase adds ~2 300 deterministic cases.
FUZZ_EXAMPLES = 20

# The deployed default (the Ichnaea contract: locate needs a key); the keyless policy's own
# paths are covered by tests/unit/api/test_access.py and tests/integration/test_access.py.
KEY_POLICY = "required"
# The same document the stack serves (asserted below); loaded at import so pytest can
# parametrize over its operations (schemathesis' lazy fixture loader fails on pytest 9).
schema = schemathesis.openapi.from_dict(openapi_document(KEY_POLICY))
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[LocalStack]:
    """No poller (queued submissions are not the subject here) and no per-IP limit: thousands
    of anonymous submissions from 127.0.0.1 would otherwise be answered 503 Retry-After."""
    env = {**NO_GEOIP, "SUBMIT_IP_LIMIT_PER_MINUTE": "0", "OPENLOC_KEY_POLICY": KEY_POLICY}
    local = LocalStack(data_dir=None, port=0, run_poller=False, run_scheduler=False, env=env)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def test_the_fuzzed_document_is_the_served_one(fuzz_stack: LocalStack) -> None:
    served = httpx.get(f"{fuzz_stack.url}/openapi.json", timeout=20)
    assert served.status_code == 200
    assert served.json() == openapi_document(KEY_POLICY)


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any], fuzz_stack: LocalStack) -> None:
    positive = case.meta is not None and str(case.meta.generation.mode) == "positive"
    if positive and case.operation.method == "post":
        case.query = {**(case.query or {}), "key": "test"}
    response = case.call_and_validate(base_url=fuzz_stack.url, checks=CHECKS)
    CASES[case.operation.label] += 1
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] == response.status_code
        assert error["message"] == error["errors"][0]["message"]


def test_enough_cases_were_sent() -> None:
    operations = {result.ok().label for result in schema.get_all_operations() if isinstance(result, Ok)}
    if set(CASES) != operations:
        pytest.skip("runs only after the fuzzing of every operation (not selected in this run)")
    print(f"schemathesis: {sum(CASES.values())} cases over {len(CASES)} operations")
    assert sum(CASES.values()) >= MIN_CASES, CASES
