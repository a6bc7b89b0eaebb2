"""`ModeSystem`: an autonomous ODE system dx/dt = f(x; params) as sympy expressions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import sympy as sp

from ._symbols import Path

__all__ = ["ModeSystem"]


@dataclass(frozen=True)
class ModeSystem:
    r"""A derived ODE system $\dot x = f(x)$ (hashable, so results on it can be cached).

    **Fields:**

    - `name`: "weights" (T13b), "modes" (T11-T13b in p, s, tau), "full", "plane", "parabola",
      "euclidean", "isoloss" (see the builders).
    - `state`: the state symbols, in order; `rhs`: their time derivatives, in the same order.
    - `params`: the parameter symbols the right-hand sides may contain.
    - `path`: the gradient path the system was derived for.
    - `theory`: the THEORY.md equations it reproduces (e.g. "T11-T13").
    - `description`: one sentence: which reduction, under which assumptions.
    - `domain`: relations the state must satisfy (e.g. `s >= 0`), used to classify boundary points.
    """

    name: str
    state: tuple[sp.Symbol, ...]
    rhs: tuple[sp.Expr, ...]
    params: tuple[sp.Symbol, ...]
    path: Path
    theory: str
    description: str
    domain: tuple = ()

    def __post_init__(self):
        if len(self.state) != len(self.rhs):
            raise ValueError(f"{len(self.state)} state symbols but {len(self.rhs)} right-hand sides")

    @property
    def dimension(self) -> int:
        return len(self.state)

    def derivative(self, name) -> sp.Expr:
        """The right-hand side of the state variable `name` (a symbol or its name)."""
        for x, f in zip(self.state, self.rhs):
            if x == name or x.name == name:
                return f
        raise KeyError(f"{name!r} is not a state variable of the {self.name} system ({self.state})")

    def equations(self) -> tuple[sp.Eq, ...]:
        """`Eq(Derivative(x(t), t), f)` for each state variable (for printing and LaTeX)."""
        from ._symbols import t

        return tuple(sp.Eq(sp.Derivative(sp.Function(x.name)(t), t), f, evaluate=False)
                     for x, f in zip(self.state, self.rhs))

    def jacobian(self) -> sp.Matrix:
        r"""$\partial f_i / \partial x_j$."""
        return sp.Matrix(self.rhs).jacobian(sp.Matrix(self.state))

    def subs(self, values: Mapping, *, name: str | None = None) -> "ModeSystem":
        """The system with some parameters replaced (symbols or their names as keys); parameters that
        were substituted leave `params`."""
        from ._symbols import symbol

        mapping = {(symbol(k) if isinstance(k, str) else k): sp.sympify(v) for k, v in values.items()}
        rhs = tuple(sp.expand(f.subs(mapping)) for f in self.rhs)
        params = tuple(q for q in self.params if q not in mapping)
        for v in mapping.values():
            params += tuple(q for q in v.free_symbols if q not in params and q not in self.state)
        return replace(self, rhs=rhs, params=params, name=name or self.name)
