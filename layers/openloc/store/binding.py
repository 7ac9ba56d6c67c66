"""Lazy binding of the pynamodb models, shared by every DynamoDB store.

pynamodb (and botocore) cost ~100 ms of import: the API handlers pay it on the first request or,
with SnapStart, in the before-snapshot hook (`warm`), never at plain import.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from openloc.settings import Settings


def bound_models(settings: Settings | None) -> ModuleType:
    """The pynamodb models module, imported and bound to the configured tables."""
    from openloc.settings import get_settings
    from openloc.store import pynamodb_tables as models

    models.bind_models(settings or get_settings())
    return models


class BoundModels:
    """Base of the DynamoDB stores: `self.models` is bound on first use."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._models: ModuleType | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The store on the tables `settings` names (models bound on first use)."""
        return cls(settings)

    @property
    def models(self) -> ModuleType:
        if self._models is None:
            self._models = bound_models(self._settings)
        return self._models
