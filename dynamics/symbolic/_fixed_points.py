r"""Fixed points of the derived mode systems with their existence conditions, THEORY.md (T17), §5 and
§7 [TCG21 Eqs. 16-17; HLZ23].

`fixed_points(system)` solves $f(x) = 0$ for generic positive parameters and returns each point with
the condition under which it exists (real, inside the state domain: fractional powers of
non-negative bases, non-zero denominators), e.g. $p^*_\pm = [\tau \pm \sqrt{\tau^2 - 4\eta(1+\sigma^2)}]
/ (2(1+\sigma^2))$ for $\eta \le \tau^2/(4(1+\sigma^2))$ (T17). With `values`, the numbers are
substituted *before* solving, so degenerate cases come out right: at $\eta = 0$ the non-collapsed
points form a line (s free), at the threshold $p^*_+ = p^*_-$.

Each point also carries a *region parametrization*: the open existence region written with positive
symbols only (e.g. $\eta = \epsilon(2\Delta + \epsilon)/(4(1+\sigma^2))$, $\tau = \Delta + \epsilon$ with
$\Delta = \sqrt{\tau^2 - 4\eta(1+\sigma^2)}$), which lets `stability` decide signs symbolically.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import sympy as sp

from ._numbers import check_magnitudes, same_number, to_number
from ._solve import solve_fixed_points
from ._symbols import PARAMETERS, alpha, alpha_p, beta, eta, eta_p, lam_d, lam_s, r, sigma2, tau
from ._system import ModeSystem

__all__ = ["FixedPoint", "fixed_points", "thresholds", "exact"]

_DECAY = (eta, r, eta_p)  # the parameter an existence condition is solved for, in this order
_DELTA = sp.Symbol("Delta", positive=True)
_EPS = sp.Symbol("epsilon", positive=True)
# A parameter point inside every generic existence region of THEORY.md; used only to name points.
_REFERENCE = {sigma2: sp.Rational(1, 2), eta: sp.Rational(1, 100), eta_p: sp.Rational(1, 100), tau: 1,
              alpha_p: 1, beta: 1, alpha: sp.Rational(1, 2), r: sp.Rational(1, 100), lam_d: 1,
              lam_s: sp.Rational(3, 2)}


@dataclass(frozen=True)
class FixedPoint:
    r"""A fixed point (or a set of them) of a `ModeSystem`.

    **Fields:**

    - `name`: "p*0", "p*+", "p*-" (T17), "lambda*0", "lambda*", "lambda*+", ... ; for a numeric
      solve, points that coincide carry both names ("p*0 = p*-"), sets "set (s free)".
    - `coordinates`: `(state symbol, expression)` pairs; a free state variable maps to itself.
    - `free`: the state variables left free (a line or plane of fixed points; non-hyperbolic).
    - `condition`: where it exists (a sympy boolean; `True` if always, for positive parameters).
    - `system`: the system's name; `region`: pairs parametrizing the open existence region by
      positive symbols: `(radicand, Delta**2)`, then `(parameter, expression)` (empty if none was
      needed or found); used by `stability` to decide signs.
    """

    name: str
    coordinates: tuple[tuple[sp.Symbol, sp.Expr], ...]
    free: tuple[sp.Symbol, ...]
    condition: sp.Basic
    system: str
    region: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()

    def as_dict(self) -> dict:
        return dict(self.coordinates)

    def evaluate(self, values: Mapping) -> dict[str, complex | float]:
        """Coordinates as numbers (free ones omitted) for parameter `values` (names or symbols)."""
        state = {x for x, _ in self.coordinates}
        subs = {k: v for k, v in exact(values).items() if k not in state}
        out = {}
        for x, v in self.coordinates:
            if x in self.free:
                continue
            number = complex(to_number(v.subs(subs)))
            out[x.name] = number.real if abs(number.imag) <= 1e-12 * abs(number.real) else number
        return out

    def exact_coordinates(self, values: Mapping) -> dict[str, sp.Expr]:
        """Coordinates as exact sympy numbers (free ones omitted) for parameter `values`."""
        state = {x for x, _ in self.coordinates}
        subs = {k: v for k, v in exact(values).items() if k not in state}
        return {x.name: v.subs(subs) for x, v in self.coordinates if x not in self.free}

    def exists(self, values: Mapping) -> bool | None:
        """Whether the existence condition holds at `values` (None if it cannot be decided)."""
        state = {x for x, _ in self.coordinates}
        values = {k: v for k, v in exact(values).items() if k not in state}
        held = self.condition.subs(values) if isinstance(self.condition, sp.Basic) else self.condition
        if held in (sp.true, True):
            return True
        if held in (sp.false, False):
            return False
        return None


def exact(values: Mapping) -> dict:
    """Parameter values as exact sympy numbers keyed by symbol: a float becomes the simplest rational
    that rounds to it (0.01 -> 1/100, 0.16666666666666666 -> 1/6), so thresholds are hit exactly."""
    out = {}
    for key, value in values.items():
        sym = PARAMETERS[key] if isinstance(key, str) else key
        if isinstance(value, float):
            value = sp.nsimplify(value, rational=True) if value == value and abs(value) != float("inf") else value
        out[sym] = sp.sympify(value)
    return out


def _fractional_bases(expr: sp.Expr) -> set:
    return {e.base for e in expr.atoms(sp.Pow) if not e.exp.is_integer and e.base.free_symbols}


def _tidy_relation(rel):
    """Solve an inequality for the decay parameter it contains (nicer to read), else keep it."""
    for q in _DECAY:
        if q in rel.free_symbols:
            try:
                solved = sp.solve(rel, q)
            except (NotImplementedError, ValueError, TypeError):
                continue
            if solved in (sp.true, sp.false):
                return solved
            args = sp.And.make_args(solved)
            args = [a.func(a.lhs, sp.factor(a.rhs)) if isinstance(a, sp.core.relational.Relational) else a
                    for a in args]
            args = [a for a in args if not (isinstance(a, sp.core.relational.Relational) and
                                            a.lhs == q and a.rhs == sp.oo)]
            return sp.And(*args)
    return rel


def _radicands(bases: set) -> set:
    """The bases that are polynomials in the parameters (the radicands of T17-type square roots)."""
    return {b for b in bases if not _fractional_bases(b) and b.is_rational_function() and not b.is_positive}


def _region(bases: set, params: tuple) -> dict:
    """Write the open region {base > 0} with positive symbols: base = Delta^2 solved for a decay
    parameter q, then q > 0 enforced by substituting x = Delta + epsilon (x a symbol root of q's
    numerator in Delta) or Delta = k epsilon / (1 + epsilon) (k another positive root)."""
    bases = _radicands(bases)
    if len(bases) != 1:
        return {}
    (base,) = bases
    for q in _DECAY:
        if q not in base.free_symbols or sp.Poly(base, q).degree() != 1:
            continue
        (q_expr,) = sp.solve(sp.Eq(base, _DELTA**2), q)
        numer = sp.numer(sp.factor(q_expr))
        try:
            roots = sp.solve(numer, _DELTA)
        except NotImplementedError:
            roots = []
        for root in roots:
            if not root.is_positive:
                continue
            if root.is_Symbol:
                shift = {root: _DELTA + _EPS}
            else:
                shift = {_DELTA: root * _EPS / (1 + _EPS)}
            region = {base: _DELTA**2, q: sp.factor(q_expr.subs(shift))}
            region.update({k: v for k, v in shift.items() if k != _DELTA})
            if shift.get(_DELTA) is not None:
                region[_DELTA] = shift[_DELTA]
            if region[q].is_positive:
                return region
    return {}


def apply_region(expr: sp.Expr, region: Mapping) -> sp.Expr:
    """Substitute a region parametrization: powers of the radicand first (radicand^k -> Delta^(2k)),
    then the parameters, then Delta if it is mapped."""
    out = sp.sympify(expr)
    for key, value in region.items():
        if not key.is_Symbol:  # the radicand: its square root is Delta
            out = out.replace(lambda e, key=key: e.is_Pow and e.base == key,
                              lambda e, value=value: value**e.exp)
    out = out.subs({k: v for k, v in region.items() if k.is_Symbol and k != _DELTA})
    if _DELTA in region:
        out = out.subs(_DELTA, region[_DELTA])
    return sp.factor(sp.cancel(sp.together(out)))


def _condition(sol: dict, system: ModeSystem, region: dict):
    conds = []
    for value in sol.values():
        bases = _fractional_bases(value)
        radicands = _radicands(bases)
        for base in bases:
            if base.is_nonnegative:
                continue
            if base not in radicands and region and apply_region(base, region).is_positive:
                continue  # follows from the radicand's condition
            conds.append(base >= 0)
        den = sp.denom(sp.together(value))
        if den.free_symbols and not den.is_nonzero:
            conds.append(sp.Ne(den, 0))
    for rel in system.domain:
        rel_at = rel.subs(sol)
        if rel_at in (sp.true, True) or rel_at.free_symbols & set(system.state):
            continue
        if region:
            decided = sp.simplify(apply_region(rel_at.lhs - rel_at.rhs, region))
            if decided.is_nonnegative:
                continue
        conds.append(rel_at)
    conds = [_tidy_relation(c) for c in conds]
    conds = [c for c in conds if c not in (sp.true, True)]
    return sp.And(*conds) if conds else sp.true


def _set_name(system: ModeSystem, sol: dict) -> str:
    """"line (s free)" when every coordinate is affine in the one free variable, else "curve (...)";
    "plane"/"surface" for two free variables."""
    free = [x for x in system.state if x not in sol]
    affine = True
    for v in sol.values():
        try:
            affine &= all(sp.Poly(v, x).degree() <= 1 for x in free if x in v.free_symbols)
        except sp.PolynomialError:
            affine = False
    kind = ("line" if affine else "curve") if len(free) == 1 else ("plane" if affine else "surface")
    return f"{kind} ({', '.join(x.name for x in free)} free)"


def _name(system: ModeSystem, sols: list[dict]) -> list[str]:
    main = system.state[0]
    label = "p" if main.name == "p" else main.name
    names, valued = [""] * len(sols), []
    for i, sol in enumerate(sols):
        if main not in sol:
            names[i] = _set_name(system, sol)
        elif sol[main] == 0:
            names[i] = f"{label}*0"
        else:
            ref = complex(sp.N(sol[main].subs(_REFERENCE)))
            valued.append((ref.real, i))
    valued.sort()
    if len(valued) == 1:
        names[valued[0][1]] = f"{label}*"
    elif len(valued) == 2:
        names[valued[0][1]], names[valued[1][1]] = f"{label}*-", f"{label}*+"
    else:
        for k, (_, i) in enumerate(valued):
            names[i] = f"{label}*{k + 1}"
    return names


def _points(system: ModeSystem, sols: list[dict], names: list[str], generic: bool) -> tuple[FixedPoint, ...]:
    points = []
    for sol, name in zip(sols, names):
        free = tuple(x for x in system.state if x not in sol)
        coords = tuple((x, sol.get(x, x)) for x in system.state)
        bases = set().union(*(_fractional_bases(v) for v in sol.values())) if sol else set()
        region = _region(bases, system.params) if generic else {}
        cond = _condition(sol, system, region) if generic else sp.true
        points.append(FixedPoint(name, coords, free, cond, system.name, tuple(region.items())))
    return tuple(points)


@lru_cache(maxsize=None)
def _generic(system: ModeSystem) -> tuple[FixedPoint, ...]:
    sols = solve_fixed_points(system.rhs, system.state, system.domain)
    return _points(system, sols, _name(system, sols), generic=True)


@lru_cache(maxsize=256)
def _numeric_cached(system: ModeSystem, values: tuple) -> tuple[FixedPoint, ...]:
    return _numeric(system, dict(values))


def _numeric(system: ModeSystem, values: dict) -> tuple[FixedPoint, ...]:
    generic = _generic(system)
    reduced = system.subs(values)
    sols = solve_fixed_points(reduced.rhs, reduced.state, reduced.domain)
    kept = []
    for sol in sols:
        numbers = [complex(to_number(v)) for v in sol.values() if not v.free_symbols]
        if any(abs(z.imag) > 1e-12 * max(1.0, abs(z.real)) for z in numbers):
            continue  # complex: does not exist for these numbers
        if any(rel.subs(sol) == sp.false for rel in system.domain):
            continue
        kept.append(sol)
    names = []
    for sol in kept:
        free = [x for x in system.state if x not in sol]
        here = {x.name: v for x, v in sol.items() if not v.free_symbols}
        matches = []
        for point in generic:
            if point.free or point.exists(values) is False:
                continue
            there = point.exact_coordinates(values)
            if free or set(there) != set(here):
                continue
            # relative only, in exact arithmetic: at tiny parameters p*0 = 0 and p*- ~ eta / tau are
            # distinct points (an absolute tolerance, or a float underflow, would merge them)
            if all(same_number(there[k], here[k]) for k in here):
                matches.append(point.name)
        if matches:
            names.append(" = ".join(sorted(matches, key=lambda n: (n[-1] != "0", n))))
        elif free:
            names.append(_set_name(system, sol))
        else:
            names.append(f"{system.state[0].name}*?")
    points = _points(reduced, kept, names, generic=False)
    conditions = {p.name: p.condition for p in generic}
    out = []
    for point in points:
        cond = sp.And(*(conditions.get(n, sp.true) for n in point.name.split(" = ")))
        out.append(FixedPoint(point.name, point.coordinates, point.free, cond, system.name))
    return tuple(out)


def fixed_points(system: ModeSystem, values: Mapping | None = None) -> tuple[FixedPoint, ...]:
    r"""Solve the system's right-hand sides for its fixed points.

    **Arguments:**

    - `system`: a `ModeSystem` (e.g. `named_system("plane")`, `mode_system(...)`).
    - `values`: optional parameter values (names or symbols -> numbers), substituted exactly before
      solving. Points that are complex or outside the state domain for these numbers are dropped.
      Non-zero values must lie within `MAGNITUDE_RANGE` (1e-12 to 1e12 in magnitude).

    **Returns:** a tuple of `FixedPoint`s. Without `values` the coordinates are expressions in the
    parameters and `condition` says where each exists (cached); with `values` the coordinates are
    exact numbers and `condition` is the generic condition of the matching symbolic point.

    **Raises:** `ConfigError` (a `ValueError`) for a value outside `MAGNITUDE_RANGE`.
    """
    if values is None:
        return _generic(system)
    check_magnitudes(values)
    chosen = {k: v for k, v in exact(values).items() if k in system.params}
    return _numeric_cached(system, tuple(sorted(chosen.items(), key=lambda kv: kv[0].name)))


@lru_cache(maxsize=None)
def _thresholds(system: ModeSystem) -> dict:
    out = {}
    for point in _generic(system):
        for _, value in point.coordinates:
            for base in _fractional_bases(value):
                for q in _DECAY:
                    if q in base.free_symbols:
                        roots = sp.solve(base, q)
                        if len(roots) == 1:
                            out[f"{q.name}*"] = sp.factor(roots[0])
                        break
    return out


def thresholds(system: ModeSystem) -> dict[str, sp.Expr]:
    r"""Bifurcation values of the decay parameter where fixed points appear or merge: the zeros of
    the bases under the fractional powers of the fixed points, solved for $\eta$ (or $r$). For T17
    this is $\eta^* = \tau^2/(4(1+\sigma^2))$ (saddle-node: $p^*_+ = p^*_-$), $1/(4(1+\sigma^2))$ at
    $\tau = 1$; for IsoLoss with weight decay, $r^* = 1$."""
    return dict(_thresholds(system))
