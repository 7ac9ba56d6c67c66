"""Typed reads of CDK context values (cdk.json "context", or `-c key=value` on the command line).

Values given with `-c` arrive as strings, values from cdk.json keep their JSON type: both work.
"""

from __future__ import annotations

from constructs import Construct

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def str_context(scope: Construct, key: str, default: str = "") -> str:
    value = scope.node.try_get_context(key)
    return default if value is None else str(value)


def int_context(scope: Construct, key: str, default: int) -> int:
    value = scope.node.try_get_context(key)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"context {key} must be an integer, got {value!r}") from None


def bool_context(scope: Construct, key: str, *, default: bool) -> bool:
    value = scope.node.try_get_context(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"context {key} must be true or false, got {value!r}")


def choice_context(scope: Construct, key: str, choices: tuple[str, ...], default: str) -> str:
    value = str_context(scope, key, default)
    if value not in choices:
        raise ValueError(f"context {key} must be one of {', '.join(choices)}, got {value!r}")
    return value
