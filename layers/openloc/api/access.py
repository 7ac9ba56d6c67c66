"""Who is calling: an API key, or (with `OPENLOC_KEY_POLICY=optional`) the client named by its User-Agent.

`OPENLOC_KEY_POLICY=required` is the contract: every locate/region request needs a known key with the
endpoint's permission. With `OPENLOC_KEY_POLICY=optional` a request without a key is served too and
counted against the *family* of its User-Agent: the first product token, name and version cut
to major.minor (`microG/0.3.1 (Android 14)` → `microG/0.3`, `NeoStumbler/62` → `NeoStumbler/62`).
A request with neither a key nor such a token gets a 400 that says what to send. A key that is
sent is always checked, in both modes (a wrong key is a client bug worth reporting); so is a
key given twice (`?key=a&key=b`), which is no valid key.

A User-Agent is whatever the client says: a keyless client that rotates it gets a fresh family
budget each time. What holds such a client is the per-address cap of keyless requests across all
families (`openloc.api.limits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openloc.api.errors import ApiError
from openloc.api.keys import KeyChecker, redact
from openloc.settings import Settings

# RFC 9110 product = token ["/" product-version]; here the version is required and must start
# with a digit (an optional "v" prefix is tolerated). Names and versions are cut to sane lengths.
_PRODUCT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9!#$%&'*+.^_`|~-]{0,63})/[vV]?(\d[A-Za-z0-9._+-]*)")
_NUMBERS = re.compile(r"\d+")
_USER_AGENT_MESSAGE = (
    "Missing API key and no usable User-Agent: send ?key=<your key>, or a User-Agent header that "
    "names your client and its version, e.g. 'User-Agent: MyLocator/1.2'."
)


def user_agent_family(user_agent: str | None) -> str | None:
    """`name/major.minor` of the User-Agent's first product token, or None when it has none."""
    if not user_agent:
        return None
    match = _PRODUCT.match(user_agent)
    if match is None:
        return None
    name, version = match.groups()
    numbers = _NUMBERS.findall(version.split("-", 1)[0])[:2]
    return f"{name}/{'.'.join(numbers)}"


def user_agent_required() -> ApiError:
    return ApiError(400, "usageLimits", "userAgentRequired", _USER_AGENT_MESSAGE)


@dataclass(frozen=True)
class ClientIdentity:
    """A caller as the limits see it. `tag` names its Redis counters (never a whole key),
    `label` is what logs may show, `daily`/`per_minute` are its budgets (0 = unlimited)."""

    keyed: bool
    tag: str
    label: str
    daily: int
    per_minute: int


def identify(
    keys: KeyChecker,
    settings: Settings,
    key: str | None,
    user_agent: str | None,
    permission: str,
    ip: str | None = None,
) -> ClientIdentity:
    """The caller's identity for a locate/region request, or keyInvalid / userAgentRequired
    (or 429 when `ip` tried too many unknown keys, `openloc.api.keys`)."""
    if key or settings.openloc_key_policy == "required":
        record = keys.require(key, permission, ip)
        return ClientIdentity(
            keyed=True,
            tag="k:" + keys.digest(record.key),
            label=redact(record.key),
            daily=max(record.maxreq, 0),
            # A key without a daily limit is a trusted partner: no burst limit either.
            per_minute=settings.limit_client_per_minute if record.maxreq > 0 else 0,
        )
    family = user_agent_family(user_agent)
    if family is None:
        raise user_agent_required()
    return ClientIdentity(
        keyed=False,
        tag="ua:" + family,
        label=family,
        daily=settings.limit_agent_per_day,
        per_minute=settings.limit_client_per_minute,
    )
