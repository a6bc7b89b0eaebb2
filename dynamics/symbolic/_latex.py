r"""Export of the derived equations: plain text and LaTeX, each tagged with its THEORY.md number."""

from __future__ import annotations

import re
from typing import NamedTuple

import sympy as sp

from ._derive import matrix_flow
from ._fixed_points import FixedPoint
from ._modes import mode_system, parabola_system, scalar_flow
from ._symbols import LATEX_NAMES, as_path
from ._system import ModeSystem

__all__ = ["Equation", "derived_equations", "to_latex", "to_text"]


class Equation(NamedTuple):
    """One derived equation: `name` of the differentiated quantity (LaTeX), `rhs`, the THEORY.md
    `tag` it reproduces and the `group` it belongs to (matrix form, one mode, ...)."""

    name: str
    rhs: sp.Basic
    tag: str
    group: str


def _system_equations(system: ModeSystem, group: str, tags: tuple[str, ...]) -> list[Equation]:
    out = []
    for x, f, tag in zip(system.state, system.rhs, tags):
        out.append(Equation(LATEX_NAMES.get(x, sp.latex(x)), sp.factor_terms(f), tag, group))
    return out


def derived_equations(predictor: str = "trained", target="ema", stop_gradient: str = "target", *,
                      loss: str = "euclidean") -> tuple[Equation, ...]:
    r"""Every equation derived for one gradient path: the matrix flow (T2)-(T5), one mode in its
    weights (T13b), one mode in $(p, s, \tau)$ with general eigenvalues and under A2 (T11)-(T13),
    and, for the trained predictor with the stop-gradient on the target, the parabola (T16)."""
    path = as_path(predictor, target, stop_gradient, loss)
    form = matrix_flow(path)
    t5 = path.target == "online" and path.stop_gradient == "none" and not path.isoloss
    out = [Equation("W", form.dW, "T5" if t5 else ("T23" if path.isoloss else "T3"), "matrix form"),
           Equation("W_p", form.dWp, "T2", "matrix form")]
    if path.target == "ema":
        out.append(Equation("W_a", form.dWa, "T4", "matrix form"))
    weights = scalar_flow(path)
    out += _system_equations(weights, "one mode, weights", ("T13b",) * weights.dimension)
    frozen = "; SimSiam: W_a = tau W, tau frozen (tau = 1 is W_a = W)" if path.target == "online" else ""
    general = mode_system(path)
    out += _system_equations(general, "one mode, (p, s, tau), eigenvalues lam_d of X, lam_s of X + X'" + frozen,
                             ("T11", "T12", "T13"))
    iso = mode_system(path, isotropic=True)
    out += _system_equations(iso, "one mode under A2 (X = I, X' = sigma2 I)" + frozen, ("T11", "T12", "T13"))
    if path.predictor == "trained" and path.stop_gradient == "target" and not path.isoloss:
        out += _system_equations(parabola_system(), "on the parabola s = p^2/alpha_p (eta_p = eta, fixed tau)",
                                 ("T16",))
    return tuple(out)


def _latex(expr) -> str:
    return re.sub(r"\+ -\s*", "- ", sp.latex(expr, symbol_names=LATEX_NAMES))


def _text(expr) -> str:
    """sympy's str, with matrix sums' `+ (-eta)*W` written `- eta*W`."""
    text = re.sub(r"\+ \(-([^()]+)\)\*", r"- \1*", sp.sstr(expr))
    return re.sub(r"^\(-([^()]+)\)\*", r"-\1*", text)


def to_latex(obj) -> str:
    r"""LaTeX for an `Equation`, a sequence of them, a `ModeSystem`, a `FixedPoint` or any sympy
    expression: `\frac{d W}{dt} = ... \tag{T3}` one per line."""
    if isinstance(obj, Equation):
        return rf"\frac{{d {obj.name}}}{{dt}} = {_latex(obj.rhs)} \tag{{{obj.tag}}}"
    if isinstance(obj, ModeSystem):
        return "\n".join(to_latex(Equation(LATEX_NAMES.get(x, sp.latex(x)), f, obj.theory, obj.name))
                         for x, f in zip(obj.state, obj.rhs))
    if isinstance(obj, FixedPoint):
        coords = ", ".join(f"{LATEX_NAMES.get(x, sp.latex(x))} = {_latex(v)}" for x, v in obj.coordinates
                           if x not in obj.free)
        cond = "" if obj.condition in (True, sp.true) else rf" \quad \text{{if }} {_latex(obj.condition)}"
        return rf"\text{{{obj.name}}}: {coords}{cond}"
    if isinstance(obj, (list, tuple)):
        return "\n".join(to_latex(item) for item in obj)
    return _latex(obj)


def to_text(equations) -> str:
    """Plain text, grouped: `d W/dt = ...   [T3]` under a heading per group."""
    lines, group = [], None
    for eq in equations:
        if eq.group != group:
            group = eq.group
            lines.append(f"# {group}")
        name = eq.name.replace("\\", "")
        lines.append(f"d{name}/dt = {_text(eq.rhs)}    [{eq.tag}]")
    return "\n".join(lines)
