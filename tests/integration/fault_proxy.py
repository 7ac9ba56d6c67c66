"""A fault-injecting HTTP proxy in front of the moto server, for the fault tests.

Why a proxy rather than botocore stubs or event hooks: every client of the stack (boto3 in the
handlers, pynamodb's own botocore client, a separate aggregator process) reaches AWS through
`AWS_ENDPOINT_URL`, so one proxy faults them all without touching their code; the faults are real
HTTP answers (DynamoDB's JSON error bodies), so botocore's and pynamodb's retry logic runs exactly
as in AWS, and the proxy counts every attempt, which makes "bounded retries" observable.

Requests are classified by their `X-Amz-Target` header (`DynamoDB_20120810.PutItem` →
`PutItem`); S3 and other traffic passes through untouched. A rule sees each DynamoDB request
and may answer it with a `Fault` instead of forwarding it; a `Fault` with `hold_after_forward`
forwards the request (the write happens) and then keeps the answer back until released, so the
caller can be killed between a write and its acknowledgement.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

DYNAMODB_PREFIX = "DynamoDB_20120810."
_ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class Fault:
    status: int
    code: str
    message: str = "injected by the fault proxy"
    hold_after_forward: bool = False

    def body(self) -> bytes:
        return json.dumps({"__type": _ERROR_TYPE + self.code, "message": self.message}).encode()


THROTTLED = Fault(
    400,
    "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput was exceeded",
)
THROTTLING = Fault(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput")
INTERNAL = Fault(500, "InternalServerError", "Internal server error")
HOLD = Fault(500, "InternalServerError", "the caller was killed before this answer", hold_after_forward=True)

# (operation, request body) → a fault to answer with, or None to forward the request.
Rule = Callable[[str, bytes], Fault | None]


class FaultProxy:
    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target_host = parts.hostname or "127.0.0.1"
        self.target_port = parts.port or 80
        self.rule: Rule | None = None
        self.requests: Counter[str] = Counter()  # DynamoDB requests by operation (faulted ones too)
        self.faults: Counter[str] = Counter()
        self.held = threading.Event()  # set while a HOLD answer is being kept back
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def set_rule(self, rule: Rule | None) -> None:
        with self._lock:
            self.rule = rule
            self.held.clear()
            self.release.clear()

    def _decide(self, operation: str, body: bytes) -> Fault | None:
        with self._lock:
            self.requests[operation] += 1
            fault = self.rule(operation, body) if self.rule is not None else None
            if fault is not None:
                self.faults[operation] += 1
            return fault

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.target_host, self.target_port, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return None

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = self.headers.get("X-Amz-Target", "")
                fault = None
                if target.startswith(DYNAMODB_PREFIX):
                    fault = proxy._decide(target.removeprefix(DYNAMODB_PREFIX), body)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                if fault is None or fault.hold_after_forward:
                    status, answer_headers, answer = proxy._forward(self.command, self.path, headers, body)
                    if fault is None:
                        self._answer(status, answer_headers, answer)
                        return
                    proxy.held.set()
                    proxy.release.wait(timeout=120)
                content_type = [("Content-Type", "application/x-amz-json-1.0")]
                with contextlib.suppress(OSError):  # the caller is gone (killed while its answer was held)
                    self._answer(fault.status, content_type, fault.body())

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815 (http.server names)

        return Handler


def fail_first_attempts(operations: set[str], attempts: int, episodes: int, every: int = 3) -> Rule:
    """Transient faults: every `every`-th new request body of `operations` fails `attempts`
    times in a row (the same body again is a client retry), for at most `episodes` bodies."""
    failing: dict[bytes, int] = {}
    seen: set[bytes] = set()
    state = {"new": 0, "episodes": 0}
    faults = (THROTTLED, INTERNAL, THROTTLING)

    def rule(operation: str, body: bytes) -> Fault | None:
        if operation not in operations:
            return None
        if body not in seen:
            seen.add(body)
            state["new"] += 1
            if state["new"] % every == 0 and state["episodes"] < episodes:
                failing[body] = attempts
                state["episodes"] += 1
        remaining = failing.get(body, 0)
        if remaining <= 0:
            return None
        failing[body] = remaining - 1
        return faults[remaining % len(faults)]

    return rule


def any_of(*rules: Rule) -> Rule:
    def rule(operation: str, body: bytes) -> Fault | None:
        for candidate in rules:
            fault = candidate(operation, body)
            if fault is not None:
                return fault
        return None

    return rule
