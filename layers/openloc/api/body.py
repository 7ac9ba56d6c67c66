"""Request bodies: size limits, gzip, "must be a JSON object" whatever the Content-Type says, and a
bounded cost whatever the body's shape.

What one request may cost is bounded before anything is built from it (docs/api.md, "Request
bodies"; the measured costs are in docs/benchmarks.md, "Cost of one request"):

- the body as received: `BodyLimits.raw` bytes (Content-Length is checked before reading);
- gzip: inflated member by member, walking the body by offset (no member copies the rest of the
  body), at most `MAX_GZIP_MEMBERS` members and `BodyLimits.decompressed` bytes of output;
- JSON: before `json.loads` runs, the `{`, `[` and `,` characters of the text are counted against
  `BodyLimits.json_values`. Every object, array, member and element the parser builds needs one of
  them, so the count bounds the number of Python objects `json.loads` can create (characters inside
  strings count too, so the count only errs on the safe side). Without it a 3 KB gzip body of
  `{"items":[{},{},…]}` builds a million dicts.

Every limit exceeded is `413 payloadTooLarge`; corrupt gzip and invalid JSON are `400 parseError`.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from openloc.api.errors import parse_error, payload_too_large

if TYPE_CHECKING:
    from openloc.settings import Settings

# A gzip body may be several members one after another (RFC 1952); clients send one. More than this
# many is refused: each member costs a decompressor, so an attacker's 2 MB of 20-byte empty members
# would otherwise cost 100 000 of them.
MAX_GZIP_MEMBERS = 64
# Compressed input is fed to the decompressor in slices of this size, so what zlib copies out as
# "unused data" at the end of a member is at most one slice, never the rest of the body.
_GZIP_SLICE = 64 * 1024


@dataclass(frozen=True)
class BodyLimits:
    """The most one body may be: bytes as received, bytes once decompressed, JSON values."""

    raw: int
    decompressed: int
    json_values: int | None = None  # None: bounded by the size alone (small bodies)

    @classmethod
    def locate(cls, settings: Settings) -> BodyLimits:
        """Locate bodies: 64 KiB before and after decompression (at most ~64 000 values)."""
        return cls(settings.locate_body_limit, settings.locate_body_limit)

    @classmethod
    def submit(cls, settings: Settings) -> BodyLimits:
        """Submissions and transfers."""
        return cls(
            settings.submit_body_limit, settings.submit_decompressed_limit, settings.submit_max_json_values
        )


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body; 413 as soon as more than `limit` bytes arrive (Content-Length checked first)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise payload_too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise payload_too_large()
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def gunzip_limited(data: bytes, limit: int, max_members: int = MAX_GZIP_MEMBERS) -> bytearray:
    """Decompress gzip (or zlib) data, refusing more than `limit` bytes of output (gzip bombs) and
    more than `max_members` members (413). Linear in the input: the body is walked by offset."""
    view = memoryview(data)
    out = bytearray()
    offset = 0
    members = 0
    while offset < len(data):  # a gzip stream may hold several members, one after another
        if members == max_members:
            raise payload_too_large(f"more than {max_members} gzip members")
        members += 1
        decompressor = zlib.decompressobj(wbits=47)  # 32 + 15: auto-detect gzip or zlib header
        while not decompressor.eof:
            if offset >= len(data):
                raise parse_error()  # truncated stream
            piece = view[offset : offset + _GZIP_SLICE]
            try:
                # At most one byte more than the limit allows: enough to know it was exceeded.
                inflated = decompressor.decompress(piece, limit + 1 - len(out))
            except zlib.error as error:
                raise parse_error() from error
            if len(out) + len(inflated) > limit:
                raise payload_too_large()
            out += inflated
            offset += len(piece) - len(decompressor.unused_data)
    return out


def check_json_values(data: bytes | bytearray, limit: int) -> None:
    """413 when the text may hold more than `limit` JSON values (see the module docstring)."""
    if data.count(b",") + data.count(b"{") + data.count(b"[") > limit:
        raise payload_too_large(f"more than {limit} JSON values")


def _reject_constant(name: str) -> Any:
    """`NaN`, `Infinity` and `-Infinity` are not JSON (RFC 8259), though Python's parser takes them."""
    raise ValueError(f"{name} is not JSON")


async def read_json_object(request: Request, limits: BodyLimits, *, empty_is_object: bool) -> dict[str, Any]:
    """The body as a JSON object. Empty → `{}` if `empty_is_object` else parseError."""
    raw = await read_limited(request, limits.raw)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    data: bytes | bytearray = raw
    if encoding == "gzip" or (raw[:2] == b"\x1f\x8b"):
        data = gunzip_limited(raw, limits.decompressed)
        del raw  # the compressed body is not needed any more
    elif len(raw) > limits.decompressed:
        raise payload_too_large()
    if not data or data.isspace():
        if empty_is_object:
            return {}
        raise parse_error()
    if limits.json_values is not None:
        check_json_values(data, limits.json_values)
    try:
        payload = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:  # includes invalid UTF-8 and over-deep nesting
        raise parse_error() from error
    if not isinstance(payload, dict):
        raise parse_error()
    return payload
