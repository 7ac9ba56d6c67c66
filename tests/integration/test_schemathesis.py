"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis).

Every operation of `/openapi.json` gets schemathesis' deterministic coverage phase (boundary and
schema-violating values of every field, wrong methods) and a fuzzing phase of random bodies, in
positive and negative mode, sent over HTTP to the embedded local stack (API Gateway emulation →
the real Lambda handlers → moto), under both key policies (`OPENLOC_KEY_POLICY=required` and
`optional`, each with its own document and stack). Checks: no 5xx, the status is one the document
lists, the Content-Type and the body match the documented schema (so every error is the
envelope), plus the envelope's own invariants. In total well over 2 000 requests per policy, plus
the offline path parameter fuzzed with digits of every script.

Not checked, on purpose: schemathesis' `negative_data_rejection`. The contract requires lenience
(docs/api.md): a field of the wrong type is dropped, never a 4xx, so schema-violating bodies
are answered like valid ones. Under `required`, positive cases carry the demo key, so bodies reach
the real locate path rather than stopping at the key check; negative cases keep their generated
(invalid) keys. Under `optional`, positive cases go keyless.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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

# Both key policies: the deployed default (the Ichnaea contract: locate needs a key) and the
# keyless policy `make run` uses (keyless clients identified by User-Agent). Each gets its own
# stack and its own document (with "optional", keys are optional and User-Agent is listed).
POLICIES = ("required", "optional")
# The same documents the stacks serve (asserted below); loaded at import so pytest can
# parametrize over their operations (schemathesis' lazy fixture loader fails on pytest 9).
SCHEMAS = {policy: schemathesis.openapi.from_dict(openapi_document(policy)) for policy in POLICIES}
CASES: dict[str, Counter[str]] = {policy: Counter() for policy in POLICIES}


class FuzzStacks:
    """One local stack at a time (a stack owns the process environment): the stack of the policy
    asked for, the previous one stopped first. Tests run in file order, so each starts once."""

    def __init__(self) -> None:
        self.policy: str | None = None
        self.stack: LocalStack | None = None

    def get(self, policy: str) -> LocalStack:
        if self.policy != policy:
            self.close()
            # No poller (queued submissions are not the subject here) and no per-address limits:
            # thousands of requests from 127.0.0.1 would otherwise be answered 429 / 503.
            env = {
                **NO_GEOIP,
                "SUBMIT_IP_LIMIT_PER_MINUTE": "0",
                "LIMIT_IP_PER_MINUTE": "0",
                "LIMIT_IP_PER_DAY": "0",
                "LIMIT_INVALID_KEYS_PER_MINUTE": "0",
                "OPENLOC_KEY_POLICY": policy,
            }
            self.stack = LocalStack(data_dir=None, port=0, run_poller=False, run_scheduler=False, env=env)
            self.stack.start()
            self.policy = policy
        assert self.stack is not None
        return self.stack

    def close(self) -> None:
        if self.stack is not None:
            self.stack.stop()
        self.stack, self.policy = None, None


@pytest.fixture(scope="module")
def fuzz_stacks() -> Iterator[FuzzStacks]:
    stacks = FuzzStacks()
    try:
        yield stacks
    finally:
        stacks.close()


def _check(case: schemathesis.Case[Any], stack: LocalStack, policy: str) -> None:
    positive = case.meta is not None and str(case.meta.generation.mode) == "positive"
    if positive and case.operation.method == "post" and policy == "required":
        case.query = {**(case.query or {}), "key": "test"}
    response = case.call_and_validate(base_url=stack.url, checks=CHECKS)
    CASES[policy][case.operation.label] += 1
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] == response.status_code
        assert error["message"] == error["errors"][0]["message"]


FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_the_fuzzed_document_is_the_served_one_required(fuzz_stacks: FuzzStacks) -> None:
    served = httpx.get(f"{fuzz_stacks.get('required').url}/openapi.json", timeout=20)
    assert served.status_code == 200
    assert served.json() == openapi_document("required")


@SCHEMAS["required"].parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_required(case: schemathesis.Case[Any], fuzz_stacks: FuzzStacks) -> None:
    """Positive cases carry the demo key, so bodies reach the real locate path."""
    _check(case, fuzz_stacks.get("required"), "required")


def test_the_fuzzed_document_is_the_served_one_optional(fuzz_stacks: FuzzStacks) -> None:
    served = httpx.get(f"{fuzz_stacks.get('optional').url}/openapi.json", timeout=20)
    assert served.status_code == 200
    assert served.json() == openapi_document("optional")


@SCHEMAS["optional"].parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_optional(case: schemathesis.Case[Any], fuzz_stacks: FuzzStacks) -> None:
    """Keyless: positive cases carry no key, so the User-Agent (generated from the document, or
    schemathesis' own) identifies them; negative cases send invalid keys and User-Agents."""
    _check(case, fuzz_stacks.get("optional"), "optional")


@FUZZ_SETTINGS
@given(
    digits=st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=8),
    prefix=st.sampled_from(["", "mcc-", "MCC-"]),
)
def test_offline_path_parameters_with_unicode_digits(
    fuzz_stacks: FuzzStacks, digits: str, prefix: str
) -> None:
    """The path parameter fuzzed with digits of every script (`²`, `٢`, `𝟚`…): a 404 envelope,
    never a 5xx (the region is checked before any conversion)."""
    stack = fuzz_stacks.get("optional")
    response = httpx.get(f"{stack.url}/v1/offline/{quote(prefix + digits, safe='')}", timeout=20)
    assert response.status_code == 404, (prefix + digits, response.text)
    assert response.json()["error"]["errors"][0]["reason"] == "notFound"


@pytest.mark.parametrize("policy", POLICIES)
def test_enough_cases_were_sent(policy: str) -> None:
    operations = {
        result.ok().label for result in SCHEMAS[policy].get_all_operations() if isinstance(result, Ok)
    }
    if set(CASES[policy]) != operations:
        pytest.skip("runs only after the fuzzing of every operation (not selected in this run)")
    print(
        f"schemathesis ({policy}): {sum(CASES[policy].values())} cases over {len(CASES[policy])} operations"
    )
    assert sum(CASES[policy].values()) >= MIN_CASES, CASES[policy]
