"""The contract's JSON error envelope and the errors the API raises.

Every error answer has one shape (docs/design.md §5, docs/api.md):
`{"error": {"errors": [{"domain", "reason", "message"}], "code": <status>, "message": <message>}}`.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered with the envelope; `status` is also the envelope's `code`."""

    def __init__(
        self, status: int, domain: str, reason: str, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(f"{status} {domain}/{reason}: {message}")
        self.status = status
        self.domain = domain
        self.reason = reason
        self.message = message
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.domain, self.reason, self.message)

    @property
    def retry_after(self) -> int:
        """The seconds of its Retry-After header (1 when it has none)."""
        value = dict(self.headers).get("Retry-After", "1")
        return int(value) if value.isdigit() else 1


def error_body(status: int, domain: str, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "errors": [{"domain": domain, "reason": reason, "message": message}],
            "code": status,
            "message": message,
        }
    }


def parse_error() -> ApiError:
    return ApiError(400, "global", "parseError", "Parse Error")


def key_invalid() -> ApiError:
    return ApiError(400, "usageLimits", "keyInvalid", "Missing or invalid API key.")


def daily_limit() -> ApiError:
    return ApiError(403, "usageLimits", "dailyLimitExceeded", "You have exceeded your daily limit.")


def rate_limited(retry_after: int, who: str = "this client") -> ApiError:
    """429 rateLimitExceeded with Retry-After; `who` names what is over its limit."""
    return ApiError(
        429,
        "usageLimits",
        "rateLimitExceeded",
        f"Too many requests from {who}: retry after the time given in Retry-After.",
        headers=(("Retry-After", str(retry_after)),),
    )


def transfer_not_allowed() -> ApiError:
    return ApiError(403, "usageLimits", "transferNotAllowed", "This API key may not transfer data.")


def invalid_items(message: str) -> ApiError:
    """A private endpoint's batch with an invalid item (the message names it)."""
    return ApiError(400, "global", "invalidItems", message)


def not_found() -> ApiError:
    return ApiError(404, "geolocation", "notFound", "Not found")


def unknown_path() -> ApiError:
    return ApiError(404, "global", "notFound", "Not found")


def payload_too_large(detail: str | None = None) -> ApiError:
    """413; `detail` names the limit that was exceeded (`Payload Too Large: <detail>`)."""
    message = f"Payload Too Large: {detail}" if detail else "Payload Too Large"
    return ApiError(413, "global", "payloadTooLarge", message)


def service_unavailable() -> ApiError:
    return ApiError(503, "global", "serviceUnavailable", "Service Unavailable")


def method_not_allowed(allowed: str) -> ApiError:
    """405 naming the method the endpoint accepts (also sent as the `Allow` header)."""
    return ApiError(
        405,
        "global",
        "methodNotAllowed",
        f"Method Not Allowed: use {allowed}",
        headers=(("Allow", allowed),),
    )
