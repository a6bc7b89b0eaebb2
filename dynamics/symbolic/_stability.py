r"""Linear stability of fixed points from the Jacobian of the derived system, THEORY.md §5 and §7.

Which system a verdict is for matters (THEORY.md §5): $p^*_-$ is *unstable* for the 1-D flow on the
invariant parabola (T16), a *saddle* in the $(p_j, s_j)$ plane at fixed $\tau$ (T11-T12), and at
$\eta = 0$ the non-collapsed fixed points form a line (*non-hyperbolic*). Every `Stability` names its
system.

- **Symbolic** (no `values`): the characteristic polynomial of the Jacobian, its Routh-Hurwitz first
  column counts the eigenvalues with positive real part; each sign is decided by sympy on the point's
  existence region written with positive symbols (`FixedPoint.region`). A zero constant coefficient
  is a zero eigenvalue: non-hyperbolic. If a sign cannot be decided: "undetermined".
- **Numeric** (`values`): eigenvalues of the Jacobian in float64, compared with 0 with tolerance `tol`.
- **1-D, non-hyperbolic**: the sign of the leading term of f just above the point (inside the state
  domain) gives the nonlinear verdict, reported in `note` (e.g. Euclidean $\lambda = 0$: f ~
  $2\lambda^{1+\alpha} > 0$, unstable but slow, T22).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import numpy as np
import sympy as sp

from ._numbers import number_sign

from ._fixed_points import FixedPoint, apply_region, exact
from ._system import ModeSystem

__all__ = ["Stability", "stability", "CLASSIFICATIONS"]

CLASSIFICATIONS = ("stable", "unstable", "saddle", "non-hyperbolic", "undetermined")


@dataclass(frozen=True)
class Stability:
    """The verdict on one fixed point of one system.

    **Fields:** `classification` (one of `CLASSIFICATIONS`); `eigenvalues` of the Jacobian (sympy
    expressions, or floats/complex for a numeric verdict; empty if not computed); `system` (which
    system the verdict is for, in words); `method` ("symbolic" or "numeric"); `note` (the nonlinear
    verdict at a non-hyperbolic 1-D point, or why a verdict is undetermined).
    """

    classification: str
    eigenvalues: tuple
    system: str
    method: str
    note: str = ""


def _describe(system: ModeSystem) -> str:
    state = ", ".join(x.name for x in system.state)
    return f"{system.name}: ({state}) {system.theory}"


def _polynomial_sign(poly_expr: sp.Expr) -> int | None:
    """+1 / -1 if every coefficient of the expanded polynomial has that sign (all symbols are
    positive), else None."""
    expanded = sp.expand(poly_expr)
    if expanded.is_number:
        return None if expanded == 0 else (1 if expanded > 0 else -1)
    symbols = sorted(expanded.free_symbols, key=str)
    try:
        coeffs = sp.Poly(expanded, *symbols).coeffs()
    except sp.PolynomialError:
        return None
    if not all(c.is_number for c in coeffs):
        return None
    if all(c > 0 for c in coeffs):
        return 1
    if all(c < 0 for c in coeffs):
        return -1
    return None


def _rational_sign(expr: sp.Expr) -> int | None:
    """Sign of a rational function of positive symbols: numerator and denominator factor by factor."""
    total = 1
    num, den = sp.fraction(sp.factor(sp.cancel(sp.together(expr))))
    for part in (num, den):
        coeff, factors = sp.factor_list(part) if not part.is_number else (part, [])
        if coeff == 0:
            return 0
        total *= 1 if coeff > 0 else -1
        for f, k in factors:
            s = _polynomial_sign(f)
            if s is None:
                s = 1 if f.is_positive else (-1 if f.is_negative else None)
            if s is None:
                return None
            total *= s**k
    return total


def _sign_of(candidate: sp.Expr) -> int | None:
    candidate = sp.sympify(candidate)
    if candidate.is_number:
        value = sp.nsimplify(candidate) if candidate.has(sp.Float) else candidate
        return number_sign(value)
    if candidate.is_rational_function() and all(q.is_positive for q in candidate.free_symbols):
        if sp.cancel(candidate) == 0:
            return 0
        return _rational_sign(candidate)  # exact for a rational function of positive symbols
    if candidate.is_positive:
        return 1
    if candidate.is_negative:
        return -1
    if sp.simplify(candidate) == 0:
        return 0
    return None


def _sign(expr: sp.Expr, region: Mapping) -> int | None:
    """The sign of `expr` for all positive values of its symbols, first as it is, then on the
    existence region (`region`); None if not decided."""
    sign = _sign_of(expr)
    if sign is None and region:
        sign = _sign_of(apply_region(expr, region))
    return sign


def _undecided_factor(exprs: list[sp.Expr], region: Mapping) -> sp.Expr | None:
    """The one factor (up to sign) whose sign is not decided in `exprs`, if there is exactly one."""
    found = set()
    for e in exprs:
        e = apply_region(e, region) if region else e
        for part in sp.fraction(sp.factor(sp.cancel(e))):
            for f in sp.Mul.make_args(part):
                base = f.base if f.is_Pow else f
                if base.is_number or _sign(base, {}) is not None:
                    continue
                try:
                    found.add(base if sp.Poly(base).LC() > 0 else -base)
                except sp.PolynomialError:
                    return None
    return found.pop() if len(found) == 1 else None


def _case_split(g: sp.Expr) -> list[tuple[str, dict]]:
    """For a factor g linear in some positive symbol x: substitutions making g > 0 and g < 0
    (x = root + epsilon or root = x + epsilon), with the inequality in words."""
    eps = sp.Symbol("epsilon_g", positive=True)
    for x in sorted(g.free_symbols, key=str):
        try:
            if sp.Poly(g, x).degree() != 1:
                continue
        except sp.PolynomialError:
            continue
        (root,) = sp.solve(g, x)
        slope = sp.Poly(g, x).LC()
        if _sign(slope, {}) is None:
            continue
        above, below = {x: root + eps}, None
        others = sorted(root.free_symbols, key=str)
        if len(others) == 1 and sp.Poly(root, others[0]).degree() == 1:
            y = others[0]
            (y_root,) = sp.solve(sp.Eq(root, x + eps), y)
            below = {y: y_root}
        elif root.is_number and root > 0:
            below = {x: root * eps / (1 + eps)}
        if below is None:
            continue
        up, down = (above, below) if _sign(slope, {}) > 0 else (below, above)
        return [(f"{sp.sstr(x)} > {sp.sstr(root)}", up), (f"{sp.sstr(x)} < {sp.sstr(root)}", down)]
    return []


def _routh_column(coeffs: list[sp.Expr]) -> list[sp.Expr]:
    """First column of the Routh array of a monic polynomial of degree <= 3 (coefficients highest
    first)."""
    n = len(coeffs) - 1
    if n == 1:
        return [coeffs[0], coeffs[1]]
    if n == 2:
        return [coeffs[0], coeffs[1], coeffs[2]]
    if n == 3:
        a2, a1, a0 = coeffs[1], coeffs[2], coeffs[3]
        return [coeffs[0], a2, sp.cancel((a2 * a1 - a0) / a2), a0]
    raise NotImplementedError("symbolic classification is implemented for up to 3 state variables")


def _verdict(unstable: int, n: int) -> str:
    if unstable == 0:
        return "stable"
    if unstable == n:
        return "unstable"
    return "saddle"


def _one_sided(f: sp.Expr, x: sp.Symbol, x0: sp.Expr, region: Mapping) -> str:
    """Nonlinear verdict at a non-hyperbolic point of a 1-D flow from the leading term of
    f(x0 + eps), eps > 0."""
    eps = sp.Symbol("varepsilon", positive=True)
    try:
        lead = sp.expand(f.subs(x, x0 + eps)).as_leading_term(eps)
    except (ValueError, NotImplementedError):
        return "nonlinear verdict undetermined"
    sign = _sign(lead.subs(eps, 1) if lead.has(eps) else lead, region)
    shown = sp.sstr(lead.subs(eps, x - x0) if x0 != 0 else lead.subs(eps, x))
    side = f"{x.name} > {sp.sstr(x0)}"
    if sign == 1:
        return f"unstable for {side} (f ~ {shown} > 0, slow escape)"
    if sign == -1:
        return f"attracting from {side} (f ~ {shown} < 0, slow approach)"
    return f"nonlinear verdict undetermined (f ~ {shown})"


def _derivative_1d(f: sp.Expr, x: sp.Symbol, x0: sp.Expr) -> sp.Expr:
    d = sp.diff(f, x).subs(x, x0)
    d = sp.simplify(sp.powdenest(sp.powsimp(d, force=True), force=True))
    if d.has(sp.nan, sp.zoo) or d == sp.nan:
        eps = sp.Symbol("varepsilon", positive=True)
        lead = sp.expand(f.subs(x, x0 + eps)).as_leading_term(eps)
        d = sp.limit(lead / eps, eps, 0, "+")
    return d


def _column_verdict(column: list[sp.Expr], region: Mapping, n: int) -> str | None:
    signs = [_sign(c, region) for c in column]
    if any(s is None for s in signs):
        return None
    if signs[-1] == 0:
        return "non-hyperbolic"
    if 0 in signs:
        return "non-hyperbolic"
    changes = sum(1 for a, b in zip(signs, signs[1:]) if a != b)
    return _verdict(changes, n)


def _conditional(column: list[sp.Expr], region: Mapping, n: int) -> str:
    """'stable where x > a; saddle where x < a' when a single factor's sign is undecided."""
    g = _undecided_factor(column, region)
    if g is None:
        return ""
    parts = []
    for words, subs in _case_split(g):
        verdict = _column_verdict([sp.cancel((apply_region(c, region) if region else c).subs(subs))
                                   for c in column], {}, n)
        if verdict is None:
            return ""
        parts.append(f"{verdict} where {words}")
    return "; ".join(parts)


@lru_cache(maxsize=None)
def _symbolic(system: ModeSystem, point: FixedPoint) -> Stability:
    region = dict(point.region)
    at = point.as_dict()
    described = _describe(system)
    if point.free:
        J = system.jacobian().subs(at)
        eig = tuple(J.eigenvals(multiple=True)) if system.dimension <= 2 else ()
        free = ", ".join(x.name for x in point.free)
        return Stability("non-hyperbolic", eig, described, "symbolic",
                         f"a set of fixed points ({free} free): zero eigenvalue along it")
    if system.dimension == 1:
        (x,), (f,) = system.state, system.rhs
        x0 = at[x]
        d = _derivative_1d(f, x, x0)
        sign = _sign(d, region)
        if sign == 0:
            note = _one_sided(f, x, x0, region)
            return Stability("non-hyperbolic", (d,), described, "symbolic", note)
        if sign is None:
            note = _conditional([sp.S.One, -d], region, 1)
            return Stability("undetermined", (d,), described, "symbolic",
                             note or "sign of f'(x*) not decided; pass numbers as values=")
        return Stability("stable" if sign < 0 else "unstable", (d,), described, "symbolic")
    J = system.jacobian().subs(at)
    eig = tuple(sp.simplify(e) for e in J.eigenvals(multiple=True)) if system.dimension <= 2 else ()
    # Decide signs on the existence region written with positive symbols (rational entries).
    J_region = J.applyfunc(lambda e: sp.cancel(apply_region(e, region))) if region else J
    z = sp.Symbol("z")
    coeffs = [sp.factor(sp.cancel(c)) for c in J_region.charpoly(z).all_coeffs()]
    column = [sp.factor(sp.cancel(c)) for c in _routh_column(coeffs)]
    verdict = _column_verdict(column, {}, system.dimension)
    if verdict == "non-hyperbolic":
        return Stability(verdict, eig, described, "symbolic", "zero or imaginary eigenvalue")
    if verdict is None:
        note = _conditional(column, {}, system.dimension)
        return Stability("undetermined", eig, described, "symbolic",
                         note or "Routh-Hurwitz signs not decided; pass numbers as values=")
    return Stability(verdict, eig, described, "symbolic")


def _numeric(system: ModeSystem, point: FixedPoint, values: dict, tol: float) -> Stability:
    reduced = system.subs(values)
    at = {x: sp.sympify(v).subs(values) for x, v in point.coordinates}
    described = _describe(system)
    if point.free:
        J = reduced.jacobian().subs({x: v for x, v in at.items() if x not in point.free})
        eig = tuple(J.eigenvals(multiple=True)) if system.dimension <= 2 else ()
        free = ", ".join(x.name for x in point.free)
        return Stability("non-hyperbolic", eig, described, "numeric",
                         f"a set of fixed points ({free} free): zero eigenvalue along it")
    J = np.array(sp.N(reduced.jacobian().subs(at), 17).tolist(), dtype=complex)
    eig = np.linalg.eigvals(J)
    eig = tuple(complex(z).real if abs(complex(z).imag) <= tol else complex(z) for z in eig)
    re = np.real(np.array(eig, dtype=complex))
    if np.any(np.abs(re) <= tol):
        note = "zero eigenvalue (within tol)"
        if system.dimension == 1:
            (x,), (f,) = reduced.state, reduced.rhs
            note = _one_sided(f, x, at[x], {})
        return Stability("non-hyperbolic", eig, described, "numeric", note)
    return Stability(_verdict(int(np.sum(re > 0)), system.dimension), eig, described, "numeric")


def stability(system: ModeSystem, point: FixedPoint, values: Mapping | None = None, *,
              tol: float = 1e-9) -> Stability:
    r"""Classify a fixed point of `system` from its Jacobian.

    **Arguments:**

    - `system`: the `ModeSystem` the point belongs to (the verdict is for this system only).
    - `point`: a `FixedPoint` from `fixed_points(system)` or `fixed_points(system, values)`.
    - `values`: parameter values; with them the verdict is numeric (eigenvalues in float64).
    - `tol`: eigenvalues with $|\mathrm{Re}\,\mu| \le$ `tol` count as zero (non-hyperbolic).

    **Returns:** a `Stability`: "stable" (all eigenvalues with negative real part), "unstable" (all
    positive), "saddle" (both signs), "non-hyperbolic" (a zero or imaginary eigenvalue; 1-D points add
    the nonlinear verdict in `note`), or "undetermined" (symbolic signs not decided).
    """
    if values is None:
        return _symbolic(system, point)
    values = {k: v for k, v in exact(values).items() if k in system.params}
    return _numeric(system, point, values, tol)
