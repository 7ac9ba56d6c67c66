"""The documentation-example checker: parsing, placeholders, comparison and rewriting."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.doc_examples import Answer, Example, examples, mismatch, update

DOC = """# Title

```sh
make run
```

```sh
curl -s 'http://127.0.0.1:8000/v1/geolocate?key=test' -d '{"a": 1,
  "b": 2}'
# {"x":1}
curl -s http://127.0.0.1:8000/__heartbeat__   # an inline remark, not an answer
curl -s -i -XPOST 'http://127.0.0.1:8000/v2/geosubmit' \\
  -d @docs/examples/geosubmit-v2.json
```
```
HTTP/1.1 200 OK
content-type: application/json

{}
```

<!-- example: not run (needs a placeholder key) -->
```sh
curl -s 'http://127.0.0.1:8000/v1/transfer?key=PEER_KEY' -d '{}'
# {}
```
"""


def _doc(tmp_path: Path) -> Path:
    path = tmp_path / "doc.md"
    path.write_text(DOC, encoding="utf-8")
    return path


def test_examples_pair_commands_with_their_shown_answers(tmp_path: Path) -> None:
    found = examples(_doc(tmp_path))
    assert [e.line for e in found] == [8, 11, 12]  # `make run` and the not-run block are skipped
    first, second, third = found
    assert first.command.endswith('"b": 2}\'') and first.expected == '{"x":1}'
    assert first.answer_style == "comment"
    assert second.expected is None  # an inline comment is prose
    assert third.answer_style == "block" and third.expected is not None
    assert third.expected.startswith("HTTP/1.1 200 OK")


def _answer(body: str, status: int = 200, content_type: str = "application/json") -> Answer:
    return Answer(status, "OK", {"content-type": content_type}, body)


@pytest.mark.parametrize(
    ("shown", "body", "ok"),
    [
        ('{"a":1,"b":"x"}', '{"b":"x","a":1.0}', True),
        ('{"a":1}', '{"a":2}', False),
        ('{"a":1}', '{"a":1,"b":2}', False),  # an unexpected member
        ('{"a":1,…}', '{"a":1,"b":2}', True),  # … as the last member: any further members
        ('{"a":…,"b":"v1:…"}', '{"a":[1,2],"b":"v1:abc"}', True),
        ('{"b":"pre…post"}', '{"b":"pre-x-post"}', True),
        ('{"b":"pre…post"}', '{"b":"pre-x-pos"}', False),
        (
            '{"e":{"errors":[{"m":"Missing ..."}],...}}',
            '{"e":{"errors":[{"m":"Missing key"}],"c":400}}',
            True,
        ),
        ("[1,…]", "[1,2,3]", True),
        ("[1,2]", "[1,2,3]", False),
    ],
)
def test_answers_match_with_placeholders(shown: str, body: str, ok: bool) -> None:
    example = Example(Path("d"), 1, "curl", expected=shown)
    assert (mismatch(example, _answer(body)) is None) is ok


def test_http_answers_compare_status_headers_and_body() -> None:
    example = Example(
        Path("d"), 1, "curl -i", expected="HTTP/1.1 200 OK\ncontent-type: application/json\n\n{}"
    )
    assert mismatch(example, _answer("{}")) is None
    assert mismatch(example, _answer("{}", 503)) is not None
    assert mismatch(example, _answer("{}", content_type="text/plain")) is not None


def test_without_a_shown_answer_a_command_must_succeed() -> None:
    example = Example(Path("d"), 1, "curl")
    assert mismatch(example, _answer("{}", 204)) is None
    assert mismatch(example, _answer("{}", 400)) is not None


def test_update_rewrites_drifted_answers_but_keeps_placeholders(tmp_path: Path) -> None:
    path = _doc(tmp_path)
    first, _, third = examples(path)
    http = Answer(200, "OK", {"content-type": "application/json", "content-length": "2"}, "{}", True)
    assert update(path, [(first, _answer('{"x":2}')), (third, http)]) == 2
    again = examples(path)
    assert again[0].expected == '{"x":2}' and again[0].command == first.command
    assert again[2].expected == "HTTP/1.1 200 OK\ncontent-type: application/json\ncontent-length: 2\n\n{}"
    assert path.read_text(encoding="utf-8").count("```") == DOC.count("```")
    placeholder = Example(path, 1, "curl", expected='{"t":…}', answer_lines=(10, 11), answer_style="comment")
    assert update(path, [(placeholder, _answer('{"t":3}'))]) == 0
