"""Templates shared by the infra tests: synthesizing costs seconds, so each variant once."""

from __future__ import annotations

import os

# Before aws_cdk starts its node process: silence jsii's node 20 banner.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest
from aws_cdk.assertions import Template

from tests.infra.templates import FULL_CONTEXT, synth


@pytest.fixture(scope="session")
def template() -> Template:
    return synth()


@pytest.fixture(scope="session")
def prod_template() -> Template:
    return synth({"stage": "prod"})


@pytest.fixture(scope="session")
def full_template() -> Template:
    return synth(FULL_CONTEXT)
