"""The one exception type for bad settings."""

from __future__ import annotations

import math

__all__ = ["ConfigError", "finite_float"]


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


def finite_float(name: str, value: object, why: str) -> float:
    """`value` as a finite float, or a `ConfigError` naming `name` (a number too large for a float, inf, NaN);
    the caller has checked that it is a number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:
        raise ConfigError(name, value, f"must be finite ({why})") from None
    if not math.isfinite(number):
        raise ConfigError(name, value, f"must be finite ({why})")
    return number
