"""The curl examples of README.md and docs/api.md, run against a fresh local stack.

Every `curl` command in a `sh` block of a checked document is run (in document order, one fresh
stack per document, as a reader who starts `make run` would) and its answer is compared with the
answer the document shows. An answer is shown either as `# ` comment lines right after the
command in the same block, or as the code block that directly follows the `sh` block (the answer
of that block's last command). A command without a shown answer must succeed (2xx).

In a shown answer, `…` (or `...`) stands for what legitimately varies between runs: as a whole
value it matches any value, inside a string any text, and as the last member of an object
(`{"a": 1, …}`) any further members. A block preceded by `<!-- example: not run (reason) -->` is
documentation only and is skipped.

    .venv/bin/python scripts/doc_examples.py            # check, exit 1 on a difference
    .venv/bin/python scripts/doc_examples.py --update   # rewrite drifted answers (without `…`)

`tests/integration/test_documented_examples.py` runs the check in `make test`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "api.md")
DOCUMENTED_BASE = "http://127.0.0.1:8000"
CURL_USER_AGENT = "curl/8.5.0"
SKIP_MARKER = re.compile(r"<!--\s*example:\s*not run\b")
_FENCE = re.compile(r"^```(\w*)\s*$")
_ELLIPSIS = ("…", "...")
_ANY = "__doc_any__"
_MORE = "__doc_more__"


@dataclass
class Example:
    document: Path
    line: int  # 1-based line of the command
    command: str
    expected: str | None = None
    # 0-based [start, end) lines holding the shown answer, and how it is written ("comment"/"block")
    answer_lines: tuple[int, int] | None = None
    answer_style: str = ""


@dataclass
class Answer:
    status: int
    reason: str
    headers: dict[str, str]
    body: str
    include_headers: bool = False

    def text(self) -> str:
        """What curl prints (`-i`: the status line and headers first)."""
        if not self.include_headers:
            return self.body
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        return "\n".join(lines) + "\n\n" + self.body


@dataclass
class _Block:
    language: str
    start: int  # line of the opening fence
    end: int  # line of the closing fence
    lines: list[str] = field(default_factory=list)


def _blocks(lines: list[str]) -> Iterator[_Block]:
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        block = _Block(opening.group(1), index, index)
        index += 1
        while index < len(lines) and not lines[index].startswith("```"):
            block.lines.append(lines[index])
            index += 1
        block.end = index
        yield block
        index += 1


def _complete(text: str) -> bool:
    if text.rstrip().endswith("\\"):
        return False
    try:
        shlex.split(text, comments=True)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return True


def _skipped(lines: list[str], fence: int) -> bool:
    before = fence - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    return before >= 0 and bool(SKIP_MARKER.search(lines[before]))


def examples(document: Path) -> list[Example]:
    """The curl examples of a Markdown document with their shown answers."""
    lines = document.read_text(encoding="utf-8").splitlines()
    blocks = list(_blocks(lines))
    found: list[Example] = []
    for position, block in enumerate(blocks):
        if block.language != "sh" or _skipped(lines, block.start):
            continue
        in_block: list[Example] = []
        pending: list[str] = []
        start = 0
        for offset, line in enumerate(block.lines):
            number = block.start + 1 + offset  # 0-based index of this line
            if not pending and line.lstrip().startswith("#"):
                if in_block and "curl" in in_block[-1].command:
                    previous = in_block[-1]
                    text = line.lstrip()[1:]
                    text = text[1:] if text.startswith(" ") else text
                    previous.expected = text if previous.expected is None else previous.expected + "\n" + text
                    first = previous.answer_lines[0] if previous.answer_lines else number
                    previous.answer_lines, previous.answer_style = (first, number + 1), "comment"
                continue
            if not pending and not line.strip():
                continue
            if not pending:
                start = number
            pending.append(line)
            if _complete("\n".join(pending)):
                in_block.append(Example(document, start + 1, "\n".join(pending)))
                pending = []
        curls = [e for e in in_block if "curl" in e.command]
        following = blocks[position + 1] if position + 1 < len(blocks) else None
        if (
            curls
            and following is not None
            and following.language in ("", "json", "text", "http")
            and all(not line.strip() for line in lines[block.end + 1 : following.start])
            and curls[-1].expected is None
        ):
            curls[-1].expected = "\n".join(following.lines)
            curls[-1].answer_lines, curls[-1].answer_style = (following.start + 1, following.end), "block"
        found += curls
    return found


def _read(argument: str, stdin: bytes | None, strip_newlines: bool) -> bytes:
    if argument == "@-":
        data = stdin or b""
    elif argument.startswith("@"):
        data = (ROOT / argument[1:]).read_bytes()
    else:
        return argument.encode()
    return data.replace(b"\r", b"").replace(b"\n", b"") if strip_newlines else data


def run(example: Example, client: httpx.Client, base_url: str) -> Answer:
    """Run one example's curl command (and a `gzip -c FILE |` in front of it) with httpx."""
    words = shlex.split(example.command.replace("\\\n", " "), comments=True)
    stdin: bytes | None = None
    if "|" in words:
        pipe = words.index("|")
        source, words = words[:pipe], words[pipe + 1 :]
        if source[:2] != ["gzip", "-c"] or len(source) != 3:
            raise ValueError(f"unsupported pipe in {example.command!r}")
        stdin = gzip.compress((ROOT / source[2]).read_bytes())
    if not words or words[0] != "curl":
        raise ValueError(f"not a curl command: {example.command!r}")
    method, url, include = None, None, False
    headers: dict[str, str | None] = {"User-Agent": CURL_USER_AGENT, "Accept": "*/*"}
    data: list[bytes] = []
    arguments = iter(words[1:])
    for word in arguments:
        if word in ("-s", "--silent"):
            continue
        if word in ("-i", "--include"):
            include = True
        elif word.startswith("-X") and len(word) > 2:
            method = word[2:]
        elif word in ("-X", "--request"):
            method = next(arguments)
        elif word in ("-d", "--data"):
            data.append(_read(next(arguments), stdin, strip_newlines=True))
        elif word == "--data-binary":
            data.append(_read(next(arguments), stdin, strip_newlines=False))
        elif word in ("-H", "--header"):
            name, _, value = next(arguments).partition(":")
            headers[name.strip()] = value.strip() or None  # `-H 'Name:'` removes the header
        elif word in ("-A", "--user-agent"):
            headers["User-Agent"] = next(arguments)
        elif word.startswith("-"):
            raise ValueError(f"unsupported curl option {word} in {example.command!r}")
        else:
            url = word.replace(DOCUMENTED_BASE, base_url)
    if url is None:
        raise ValueError(f"no URL in {example.command!r}")
    body = b"&".join(data) if data else None
    if body is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = client.build_request(method or ("POST" if body is not None else "GET"), url, content=body)
    for header, setting in headers.items():
        if setting is None:
            request.headers.pop(header, None)
        else:
            request.headers[header] = setting
    response = client.send(request)
    shown = {k: v for k, v in response.headers.items() if k not in ("date", "server")}
    return Answer(response.status_code, response.reason_phrase, shown, response.text, include)


def _placeholders(text: str) -> str:
    """Shown JSON with `…` placeholders → parseable JSON with marker strings."""
    out: list[str] = []
    index, in_string = 0, False
    while index < len(text):
        char = text[index]
        if in_string:
            out.append(char)
            if char == "\\":
                out.append(text[index + 1])
                index += 1
            elif char == '"':
                in_string = False
            index += 1
            continue
        if char == '"':
            in_string = True
            out.append(char)
            index += 1
            continue
        marker = next((m for m in _ELLIPSIS if text.startswith(m, index)), None)
        if marker is None:
            out.append(char)
            index += 1
            continue
        following = text[index + len(marker) :].lstrip()
        previous = "".join(out).rstrip()
        if following.startswith("}") and previous.endswith(","):
            out.append(f'"{_MORE}": true')
        elif following.startswith("]") and previous.endswith(","):
            out.append(f'"{_MORE}"')
        else:
            out.append(f'"{_ANY}"')
        index += len(marker)
    return "".join(out)


def _string_matches(expected: str, actual: str) -> bool:
    parts = re.split("|".join(re.escape(m) for m in _ELLIPSIS), expected)
    if len(parts) == 1:
        return expected == actual
    pattern = ".*".join(re.escape(p) for p in parts)
    return re.fullmatch(pattern, actual, flags=re.DOTALL) is not None


def _json_matches(expected: Any, actual: Any, where: str = "$") -> str | None:
    if expected == _ANY:
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected an object, got {actual!r}"
        partial = expected.get(_MORE) is True
        keys = [k for k in expected if k != _MORE]
        missing = [k for k in keys if k not in actual]
        extra = [] if partial else [k for k in actual if k not in expected]
        if missing or extra:
            return f"{where}: members differ (missing {missing}, unexpected {extra})"
        for key in keys:
            problem = _json_matches(expected[key], actual[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        partial = bool(expected) and expected[-1] == _MORE
        items = expected[:-1] if partial else expected
        if (
            not isinstance(actual, list)
            or len(actual) < len(items)
            or (not partial and len(actual) != len(items))
        ):
            return f"{where}: expected {len(items)}{'+' if partial else ''} items, got {actual!r}"
        for index, item in enumerate(items):
            problem = _json_matches(item, actual[index], f"{where}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(expected, str) and isinstance(actual, str):
        return None if _string_matches(expected, actual) else f"{where}: {actual!r} ≠ shown {expected!r}"
    if isinstance(expected, bool) or isinstance(actual, bool):
        return None if expected is actual else f"{where}: {actual!r} ≠ shown {expected!r}"
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return None if float(expected) == float(actual) else f"{where}: {actual!r} ≠ shown {expected!r}"
    return None if expected == actual else f"{where}: {actual!r} ≠ shown {expected!r}"


def _body_matches(expected: str, actual: str) -> str | None:
    expected = expected.strip()
    if not expected and not actual.strip():
        return None
    try:
        shown = json.loads(_placeholders(expected))
    except ValueError:
        return None if _string_matches(expected, actual.strip()) else f"body {actual!r} ≠ shown {expected!r}"
    try:
        value = json.loads(actual)
    except ValueError:
        return f"body is not JSON: {actual[:200]!r}"
    return _json_matches(shown, value)


def mismatch(example: Example, answer: Answer) -> str | None:
    """None when the answer is the one shown (or, with none shown, a success)."""
    if example.expected is None:
        return None if 200 <= answer.status < 300 else f"status {answer.status}: {answer.body[:300]}"
    expected = example.expected
    if expected.startswith("HTTP/"):
        head, _, body = expected.partition("\n\n")
        status_line, *header_lines = head.splitlines()
        if int(status_line.split()[1]) != answer.status:
            return f"status {answer.status} ≠ shown {status_line!r}"
        for line in header_lines:
            name, _, value = line.partition(":")
            actual = answer.headers.get(name.strip().lower())
            if actual is None or not _string_matches(value.strip(), actual):
                return f"header {name.strip()}: {actual!r} ≠ shown {value.strip()!r}"
        return _body_matches(body, answer.body)
    return _body_matches(expected, answer.body)


def update(document: Path, fixes: list[tuple[Example, Answer]]) -> int:
    """Rewrite the shown answers of `fixes` (only answers without placeholders); returns count."""
    lines = document.read_text(encoding="utf-8").splitlines()
    changed = 0
    for example, answer in sorted(fixes, key=lambda f: -(f[0].answer_lines or (0, 0))[0]):
        if example.answer_lines is None or any(m in (example.expected or "") for m in _ELLIPSIS):
            continue
        start, end = example.answer_lines
        text = answer.text().splitlines() or [""]
        replacement = [f"# {line}" for line in text] if example.answer_style == "comment" else text
        lines[start:end] = replacement
        changed += 1
    document.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


def check_document(document: Path, base_url: str) -> list[tuple[Example, Answer, str]]:
    """Run every example of `document`; the ones whose answer differs from the shown one."""
    problems = []
    with httpx.Client(timeout=30) as client:
        for example in examples(document):
            answer = run(example, client, base_url)
            problem = mismatch(example, answer)
            if problem is not None:
                problems.append((example, answer, problem))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--update", action="store_true", help="rewrite drifted answers in place")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "layers"))
    from openloc.local.stack import LocalStack

    failed = 0
    for document in DOCUMENTS:
        with LocalStack(data_dir=None, port=0, run_scheduler=False, site=True) as stack:
            problems = check_document(document, stack.url)
        for example, _answer, problem in problems:
            print(f"{example.document.relative_to(ROOT)}:{example.line}: {problem}")
        if args.update and problems:
            print(
                f"{document.relative_to(ROOT)}: {update(document, [(e, a) for e, a, _ in problems])} updated"
            )
        failed += len(problems)
    return 1 if failed and not args.update else 0


if __name__ == "__main__":
    sys.exit(main())
