"""The one exception type for bad settings."""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(ValueError):
    """A setting is out of range, inconsistent with another, or unknown.

    The message always names the field, the value that was given and what is allowed, e.g.
    ``beta = -1.0: must be >= 0 (EMA rate, T4)``. The CLI prints it and exits with status 2.
    """

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field} = {shown}: {allowed}")
