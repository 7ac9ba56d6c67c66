"""Pydantic building blocks for the contract's "drop the bad part, keep the request" rule.

`Opt[T]` is a field that becomes `None` when the client sent a value of the wrong type, and
`Items[T]` is a list that keeps the entries that validate and drops the others (a non-list
becomes `[]`). Both keep the inner type's JSON schema, so the OpenAPI document stays exact.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import ValidationError, ValidatorFunctionWrapHandler, WrapValidator

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
