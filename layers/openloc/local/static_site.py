"""Serve the assets bucket's public objects like CloudFront does, for the local stack.

`/` and paths ending in `/` map to `index.html` (CloudFront's default root object); other paths
map to the object of the same key. `Range` requests are passed to S3 (the map reads the PMTiles
archive in ranges), and the object's Content-Type, Cache-Control and ETag are passed back. In AWS
the security headers come from a CloudFront response-headers policy; locally this module adds the
same ones.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openloc.website import CONFIG_KEY, CONTENT_SECURITY_POLICY, Basemap, content_security_policy

# The same headers as the CloudFront response-headers policy (infra/cdn.py), minus HSTS (plain http).
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "content-security-policy": CONTENT_SECURITY_POLICY,
}
POLICY_SECONDS = 1.0  # how long the policy read from config.json is reused


def object_key(path: str) -> str:
    key = unquote(path).lstrip("/")
    return key + "index.html" if key == "" or key.endswith("/") else key


class StaticSite:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self._policy: tuple[float, str] = (float("-inf"), CONTENT_SECURITY_POLICY)
        self._lock = threading.Lock()

    def headers(self) -> dict[str, str]:
        """The security headers, with the CSP of the published `config.json` (re-read at most once
        a second; without a usable one, the default policy)."""
        with self._lock:
            read_at, policy = self._policy
            if time.monotonic() - read_at >= POLICY_SECONDS:
                basemap = None
                try:
                    body = self.s3.get_object(Bucket=self.bucket, Key=CONFIG_KEY)["Body"].read()
                    basemap = Basemap.from_json(json.loads(body).get("basemap"))
                except Exception:  # no config.json (yet), or not JSON: the default policy
                    basemap = None
                policy = content_security_policy(basemap)
                self._policy = (time.monotonic(), policy)
        return SECURITY_HEADERS | {"content-security-policy": policy}

    def _fetch(self, key: str, byte_range: str | None, head: bool) -> Response:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if byte_range:
            arguments["Range"] = byte_range
        try:
            result = (self.s3.head_object if head else self.s3.get_object)(**arguments)
        except self.s3.exceptions.NoSuchKey:
            return self._error(404, "Not Found")
        except Exception as error:  # botocore ClientError: 404 on HEAD, 416 on a bad range
            status = int(
                getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
            )
            return self._error(
                status if status in (404, 416) else 502, "Not Found" if status == 404 else "Error"
            )
        metadata = result["ResponseMetadata"]
        status = int(metadata.get("HTTPStatusCode", 200))
        body = b"" if head else result["Body"].read()
        response = Response(body, status_code=status, media_type=result.get("ContentType"))
        for name, field in (
            ("cache-control", "CacheControl"),
            ("etag", "ETag"),
            ("content-range", "ContentRange"),
        ):
            if result.get(field):
                response.headers[name] = str(result[field])
        response.headers["accept-ranges"] = "bytes"
        if head:
            response.headers["content-length"] = str(result.get("ContentLength", 0))
        response.headers.update(self.headers())
        return response

    def _error(self, status: int, text: str) -> Response:
        response = Response(text, status_code=status, media_type="text/plain")
        response.headers.update(self.headers())
        return response

    async def serve(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            response = self._error(405, "Method Not Allowed")
            response.headers["allow"] = "GET, HEAD"
            return response
        return await run_in_threadpool(
            self._fetch, object_key(request.url.path), request.headers.get("range"), request.method == "HEAD"
        )
