"""Request bodies: size limits, gzip, and "must be a JSON object" whatever the Content-Type says."""

from __future__ import annotations

import json
import zlib
from typing import Any

from starlette.requests import Request

from openloc.api.errors import parse_error, payload_too_large


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
    return b"".join(chunks)


def gunzip_limited(data: bytes, limit: int) -> bytes:
    """Decompress gzip (or zlib) data, refusing more than `limit` bytes of output (gzip bombs)."""
    parts: list[bytes] = []
    size = 0
    remaining = data
    while remaining:  # a gzip stream may hold several members, one after another
        decompressor = zlib.decompressobj(wbits=47)  # 32 + 15: auto-detect gzip or zlib header
        try:
            out = decompressor.decompress(remaining, limit + 1 - size)
        except zlib.error as error:
            raise parse_error() from error
        size += len(out)
        if size > limit or decompressor.unconsumed_tail:
            raise payload_too_large()
        if not decompressor.eof:
            raise parse_error()  # truncated stream
        parts.append(out)
        remaining = decompressor.unused_data
    return b"".join(parts)


def _reject_constant(name: str) -> Any:
    """`NaN`, `Infinity` and `-Infinity` are not JSON (RFC 8259), though Python's parser takes them."""
    raise ValueError(f"{name} is not JSON")


async def read_json_object(
    request: Request, *, limit: int, decompressed_limit: int | None = None, empty_is_object: bool
) -> dict[str, Any]:
    """The body as a JSON object. Empty → `{}` if `empty_is_object` else parseError."""
    data = await read_limited(request, limit)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip" or (data[:2] == b"\x1f\x8b"):
        data = gunzip_limited(data, decompressed_limit or limit)
    if not data.strip():
        if empty_is_object:
            return {}
        raise parse_error()
    try:
        payload = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:  # includes invalid UTF-8 and over-deep nesting
        raise parse_error() from error
    if not isinstance(payload, dict):
        raise parse_error()
    return payload
