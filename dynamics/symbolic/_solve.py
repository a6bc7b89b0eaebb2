"""Fixed-point sets of small polynomial(-like) systems by factoring and back-substitution.

`sympy.solve` on a whole system can miss components of a non-isolated solution set (e.g. the line
p = tau/(1+sigma2), tau = 1, s free of the full system at eta = 0). Here each equation is factored
and every factor is solved for one variable (preferring one it is linear in), substituted into the
other equations and the process repeated, so every component is visited. Parameters are treated as
generic: a factor free of the unknowns (e.g. eta, or beta - eta) is taken to be non-zero.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["solve_fixed_points"]


def _tidy(expr: sp.Expr) -> sp.Expr:
    expr = sp.sympify(expr)
    if expr.is_number and not expr.free_symbols:
        return sp.nsimplify(expr) if expr.has(sp.Float) else sp.radsimp(expr)
    if not expr.atoms(sp.Pow) - {e for e in expr.atoms(sp.Pow) if e.exp.is_integer}:
        return min((sp.factor(sp.cancel(expr)), sp.cancel(expr)), key=sp.count_ops)  # rational function
    simpler = sp.radsimp(sp.simplify(expr))
    return min((expr, simpler, sp.factor(simpler)), key=sp.count_ops)  # ties keep the solver's form


def _factors(expr: sp.Expr, unknowns) -> list[sp.Expr]:
    try:
        _, pairs = sp.factor_list(sp.together(expr))
        factors = [f for f, _ in pairs]
    except (sp.PolynomialError, TypeError):  # non-polynomial (e.g. lambda**alpha): as an expression
        try:
            factors = list(sp.Mul.make_args(sp.factor(expr)))
        except (sp.PolynomialError, TypeError):
            factors = list(sp.Mul.make_args(sp.factor_terms(expr)))
    result = []
    for f in factors:
        base = f.base if (f.is_Pow and f.exp.is_positive) else f
        if base.free_symbols & set(unknowns):
            result.append(base)
    return result


def _degree(f: sp.Expr, v: sp.Symbol) -> float:
    try:
        return sp.Poly(f, v).degree()
    except sp.PolynomialError:
        return float("inf")


def _branch(equations, unknowns, assignment: dict) -> list[dict]:
    remaining = []
    for eq in equations:
        e = sp.numer(sp.together(sp.expand(eq.subs(assignment))))
        if e == 0 or sp.expand(sp.powdenest(e, force=True)) == 0:
            continue
        if not (e.free_symbols & set(unknowns)) and sp.simplify(e) == 0:
            continue
        if not (e.free_symbols & set(unknowns)):
            if e.is_number and e != 0 or not e.is_number:
                return []  # a non-zero constant (generic parameters): no solution on this branch
        remaining.append(e)
    if not remaining:
        return [assignment]
    open_unknowns = [u for u in unknowns if u not in assignment]
    # Branch on the equation with the simplest factors first.
    eq = min(remaining, key=lambda e: (len(_factors(e, open_unknowns)) == 0, sp.count_ops(e)))
    others = [e for e in remaining if e is not eq]
    solutions = []
    for f in _factors(eq, open_unknowns):
        variables = sorted(f.free_symbols & set(open_unknowns), key=lambda v: (_degree(f, v), open_unknowns.index(v)))
        for v in variables:
            try:
                roots = sp.solve(f, v)
            except NotImplementedError:
                continue
            if not roots:
                continue
            for root in roots:
                new = {k: val.subs(v, root) for k, val in assignment.items()}
                new[v] = root
                solutions.extend(_branch(others, unknowns, new))
            break
    return solutions


def solve_fixed_points(rhs, unknowns, domain=()) -> list[dict]:
    """All solutions of `rhs = 0` as dicts unknown -> expression; unknowns absent from a dict are
    free (a line or a plane of fixed points). Duplicates and points outside `domain` (relations that
    evaluate to False) are dropped."""
    unknowns = list(unknowns)
    raw = _branch(list(rhs), unknowns, {})
    seen, result = [], []
    for sol in raw:
        for _ in range(len(unknowns)):  # resolve chains (values that still mention solved unknowns)
            sol = {k: v.subs(sol) for k, v in sol.items()}
        sol = {k: _tidy(v) for k, v in sol.items()}
        if any(rel.subs(sol) == sp.false for rel in domain):
            continue
        if any(v.has(sp.zoo, sp.nan, sp.oo) for v in sol.values()):
            continue
        key = tuple((str(k), sp.srepr(sol[k]) if k in sol else None) for k in unknowns)
        if key not in seen:
            seen.append(key)
            result.append(sol)
    return result
