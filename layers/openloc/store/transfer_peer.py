"""The receiving instance as the sender of instance sync sees it: `POST <peer>/v1/transfer?key=…`.

`HttpTransferPeer.send` posts one gzipped batch and returns once the peer answered 2xx. A 503, a
429, a 5xx or a connection error is retried with exponential backoff (honouring `Retry-After`):
the batch keeps its id, so the peer merges it at most once however often it is sent. A 4xx other
than 429 is final: resending the same batch cannot help (`TransferRejected`, with the peer's
error message). After `attempts` failed tries, `PeerUnavailable`.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Protocol

from openloc import __version__

RETRYABLE = {429, 500, 502, 503, 504}


class TransferPeer(Protocol):
    def send(self, batch_id: str, body: bytes) -> None:
        """Deliver one gzipped `TransferRequest` body (retrying as needed); raise when it cannot be."""
        ...


class TransferRejected(RuntimeError):
    """The peer refused the batch with a 4xx: wrong key, no transfer permission, invalid or too
    large batch. Sending it again cannot help."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"the peer answered {status}{' ' + reason if reason else ''}: {message}")
        self.status = status
        self.reason = reason


class PeerUnavailable(RuntimeError):
    """The peer could not be reached, or kept answering 5xx/429, for every attempt."""


def transfer_url(base: str, key: str) -> str:
    """`<base>/v1/transfer?key=<key>` (a base already ending in /v1/transfer is kept)."""
    parsed = urllib.parse.urlsplit(base.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"not an http(s) URL: {base!r}")
    path = parsed.path.rstrip("/")
    if not path.endswith("/v1/transfer"):
        path += "/v1/transfer"
    return urllib.parse.urlunsplit(
        (parsed.scheme, parsed.netloc, path, urllib.parse.urlencode({"key": key}), "")
    )


def _error_of(status: int, body: bytes) -> tuple[str, str]:
    """The reason and message of the contract's error envelope (or the raw text)."""
    try:
        error = json.loads(body)["error"]
        return str(error["errors"][0]["reason"]), str(error["message"])
    except (ValueError, KeyError, IndexError, TypeError):
        return "", body[:200].decode("utf-8", "replace") or f"HTTP {status}"


class HttpTransferPeer:
    def __init__(
        self,
        url: str,
        key: str,
        attempts: int = 8,
        timeout: float = 60.0,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = transfer_url(url, key)
        self.attempts = attempts
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.retries = 0  # for the summary

    def _post(self, body: bytes) -> tuple[int, bytes, str | None]:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "User-Agent": f"openloc-transfer/{__version__}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status), response.read(), None
        except urllib.error.HTTPError as error:
            return int(error.code), error.read(), error.headers.get("Retry-After")

    def send(self, batch_id: str, body: bytes) -> None:
        delay = self.backoff
        problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                status, answer, retry_after = self._post(body)
            # Refused, reset, timed out, DNS; a connection dropped mid-answer.
            except (OSError, urllib.error.URLError, http.client.HTTPException) as error:
                status, answer, retry_after = 0, b"", None
                problem = f"{type(error).__name__}: {error}"
            if 200 <= status < 300:
                return
            if status and status not in RETRYABLE:
                raise TransferRejected(status, *_error_of(status, answer))
            if status:
                problem = "HTTP {} {}: {}".format(status, *_error_of(status, answer))
            if attempt == self.attempts:
                break
            wait = delay
            if retry_after is not None and retry_after.strip().isdigit():
                wait = max(wait, float(retry_after))
            self.retries += 1
            self.sleep(min(wait, self.max_backoff))
            delay = min(delay * 2, self.max_backoff)
        raise PeerUnavailable(f"batch {batch_id}: no answer after {self.attempts} attempts ({problem})")
