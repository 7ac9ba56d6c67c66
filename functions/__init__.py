"""The Lambda handlers: one folder per function, each a thin `handler.py` (docs/design.md)."""
