"""Every curl example of the README and of docs/api.md, against a fresh local stack (`make run`'s).

Each document gets its own fresh stack with the website and the start-up jobs, as a reader who
runs `make run` and follows that document top to bottom; the answers must be the ones shown
(`scripts/doc_examples.py` describes the conventions and rewrites drifted answers).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openloc.local.stack import LocalStack

from scripts.doc_examples import DOCUMENTS, check_document, examples

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_documented_answers_are_the_real_ones(document: Path) -> None:
    assert len(examples(document)) >= 10  # the document still has its examples
    with LocalStack(data_dir=None, port=0, run_scheduler=False, site=True) as stack:
        problems = check_document(document, stack.url)
    assert not problems, "\n".join(
        f"{example.document.name}:{example.line}: {problem}\n  answer: {answer.text()[:300]}"
        for example, answer, problem in problems
    )
