"""Exact sympy numbers evaluated without losing them to cancellation.

At tiny parameters (e.g. eta = 1e-300) a fixed point such as p*- = (tau - sqrt(tau^2 - 4 eta (1 +
sigma2))) / (2 (1 + sigma2)) is a difference of two nearly equal numbers: fixed-precision `sp.N`
returns 0 and sympy cannot decide its sign. These helpers raise the working precision until the
value is resolved, and fall back to exact simplification for a true zero.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.evalf import PrecisionExhausted

__all__ = ["to_number", "number_sign", "same_number", "format_number", "MAGNITUDE_RANGE", "check_magnitudes"]

_MAXN = 5000  # working digits sympy may use to resolve a cancellation
#: Non-zero parameter values that an exact solve accepts. Beyond them the exact solve slows down sharply
#: with the digits of the numbers (minutes at 1e-300 for the (p, s, tau) system), sympy's own root
#: checks lose roots (IsoLoss / T22 at r = 1e-300 misses lambda*-), and the eigenvalues fall below the
#: resolution of a float classification.
MAGNITUDE_RANGE = (1e-12, 1e12)


def _evalf(expr: sp.Expr, digits: int) -> sp.Expr | None:
    """`expr` to `digits` significant digits, or None when it cannot be told apart from zero."""
    try:
        return sp.sympify(expr).evalf(digits, strict=True, maxn=_MAXN)
    except PrecisionExhausted:
        return None


def to_number(expr: sp.Expr, digits: int = 17) -> complex | float:
    """A number (float when real) with `digits` correct significant digits; 0 for an exact zero.

    **Raises:** `TypeError` when `expr` is not a number (it has free symbols).
    """
    expr = sp.sympify(expr)
    if expr.free_symbols:
        raise TypeError(f"not a number: {expr}")
    value = _evalf(expr, digits)
    if value is None:
        if sp.simplify(expr) == 0:
            return 0.0
        value = sp.N(expr, digits)  # no better available: the plain evaluation
    z = complex(value)
    return z.real if z.imag == 0 else z


def number_sign(expr: sp.Expr) -> int | None:
    """-1, 0 or 1 for a real number (None when it is not real or cannot be decided)."""
    expr = sp.sympify(expr)
    if expr.free_symbols:
        return None
    if expr.is_zero:
        return 0
    value = _evalf(expr, 15)
    if value is None:
        return 0 if sp.simplify(expr) == 0 else None
    re, im = value.as_real_imag()
    if im != 0:
        return None
    return 0 if re == 0 else (1 if re > 0 else -1)


def _high(expr: sp.Expr, digits: int = 30) -> sp.Expr | None:
    """`expr` as a sympy Float (no exponent range limit, unlike a Python float), None if it cannot be
    told apart from zero."""
    return _evalf(sp.sympify(expr), digits)


def same_number(a: sp.Expr, b: sp.Expr, rtol: float = 1e-9) -> bool:
    """Whether two exact numbers agree to `rtol` relative to the larger: a relative test with no
    absolute floor, in sympy's exponent range (so 0 and 1e-600 are different numbers)."""
    a, b = sp.sympify(a), sp.sympify(b)
    if a == b:
        return True
    x, y = _high(a), _high(b)
    if x is None or y is None:  # one of them is (numerically) zero: equal only if both are
        zero_a = x is None and sp.simplify(a) == 0
        zero_b = y is None and sp.simplify(b) == 0
        if zero_a or zero_b:
            return (zero_a or (y is None and sp.simplify(a - b) == 0)) and (zero_b or x is None)
        return sp.simplify(a - b) == 0
    return bool(abs(x - y) <= rtol * max(abs(x), abs(y)))


def format_number(expr: sp.Expr, digits: int = 4) -> str:
    """A short decimal for display, correct for tiny and huge numbers (no float underflow)."""
    expr = sp.sympify(expr)
    value = _high(expr, digits)
    if value is None:
        return "0" if sp.simplify(expr) == 0 else sp.sstr(sp.N(expr, digits))
    re, im = value.as_real_imag()
    part = lambda v: f"{float(v):.{digits}g}" if v == 0 or 1e-300 < abs(v) < 1e300 else sp.sstr(  # noqa: E731
        sp.Float(v, digits))
    return part(re) if im == 0 else f"{part(re)}{'+' if im >= 0 else '-'}{part(abs(im))}j"


def check_magnitudes(values: dict) -> None:
    """Refuse a non-zero parameter value outside `MAGNITUDE_RANGE` (keys: names or symbols).

    **Raises:** `ConfigError` naming the parameter.
    """
    from ..config import ConfigError

    small, large = MAGNITUDE_RANGE
    for key, value in values.items():
        name = key if isinstance(key, str) else key.name
        try:
            number = abs(float(value))
        except (TypeError, ValueError):
            continue  # symbolic values are not solved numerically
        if number != 0 and not small <= number <= large:
            raise ConfigError(name, value, f"must be 0 or between {small:g} and {large:g} in magnitude: the fixed "
                              "points are solved exactly, and more extreme numbers make the exact solve very slow, "
                              "lose roots in sympy's checks, and give eigenvalues below a float's resolution")
