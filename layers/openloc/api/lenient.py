"""Pydantic building blocks for the contract's "drop the bad part, keep the request" rule.

`Opt[T]` is a field that becomes `None` when the client sent a value of the wrong type, and
`Items[T]` is a list that keeps the entries that validate and drops the others (a non-list
becomes `[]`). Both keep the inner type's JSON schema, so the OpenAPI document stays exact.

`Int` and `Float` are numbers that may arrive as strings where that is unambiguous: plain
decimal text (`"262"`, `" -85 "`, `"52.52"`, `"1e-3"`; an integer also as `"262.0"`). Booleans,
`"nan"`/`"inf"`, hex, `_` separators and non-ASCII digits are not numbers here (the field is
dropped), nor is a non-integral value for an integer field.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

T = TypeVar("T")


def _none_on_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


def _drop_invalid_items(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if not isinstance(value, list):
        return []
    kept: list[Any] = []
    for item in value:
        try:
            kept.extend(handler([item]))
        except ValidationError:
            continue
    return kept


Opt = Annotated[T | None, WrapValidator(_none_on_error)]
Items = Annotated[list[T], WrapValidator(_drop_invalid_items)]


_INTEGER_TEXT = re.compile(r"[-+]?[0-9]+(?:\.0*)?")
_DECIMAL_TEXT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER_TEXT.fullmatch(text):
            raise ValueError("not an integer")
        return int(text.split(".", 1)[0])
    return value


def _decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_TEXT.fullmatch(text):
            raise ValueError("not a number")
        value = float(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


Int = Annotated[int, BeforeValidator(_integer)]
Float = Annotated[float, BeforeValidator(_decimal)]
