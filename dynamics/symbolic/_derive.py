r"""The gradient flow (T2)-(T5) derived from the loss (T1) by sympy differentiation [TCG21 Sec. 2].

The stop-gradient is realized by differentiating only the chosen occurrence of the weights: the
expected loss is written as $J(W, W_p, W_a)$ with the target weights $W_a$ a separate set of symbols,

$J = \tfrac12 \mathrm{tr}(W_p W (X+X') W^T W_p^T) - \mathrm{tr}(W_p W X W_a^T)
+ \tfrac12 \mathrm{tr}(W_a (X+X') W_a^T)$,

so $\partial J/\partial W$ is the online branch's gradient and $\partial J/\partial W_a$ the target
branch's; both are evaluated at $W_a = W$ afterwards for SimSiam. The flow is then

$\dot W = -[\text{online}]\,\partial J/\partial W - [\text{target}]\,\partial J/\partial W_a - \eta W$,
$\dot W_p = -\alpha_p [\text{online}]\,\partial J/\partial W_p - \eta_p W_p$ (symmetrized for the
symmetric predictor, zero for the identity predictor),
$\dot W_a = \beta (W - W_a)$ (EMA, T4) or $\dot W$ (SimSiam),

exactly the semantics of `dynamics.flows.byol_flow`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import sympy as sp

from ..config import ConfigError
from ._symbols import Path, alpha_p, as_path, beta, eta, eta_p

__all__ = ["MatrixFlow", "MatrixFlowForm", "derive_flow", "matrix_flow", "expected_loss", "isoloss_objective",
           "explicit"]


class MatrixFlow(NamedTuple):
    """The flow for explicit sizes: weights with general symbolic entries and their derivatives.

    `W` (n2 x n1), `Wp` (n2 x n2), `Wa` (n2 x n1; the same matrix as `W` for SimSiam), data moments
    `X`, `Xprime` (symmetric n1 x n1; X + X' = E[x1 x1^T]), the loss `J` (T1, in expectation) and
    `dW`, `dWp`, `dWa` (T2-T5), all `sympy.Matrix`; `path` the gradient path they were derived for.
    """

    W: sp.Matrix
    Wp: sp.Matrix
    Wa: sp.Matrix
    X: sp.Matrix
    Xprime: sp.Matrix
    J: sp.Expr
    dW: sp.Matrix
    dWp: sp.Matrix
    dWa: sp.Matrix
    path: Path


class MatrixFlowForm(NamedTuple):
    """The flow in matrix form (sympy matrix calculus on `MatrixSymbol`s): the symbols `W`, `Wp`,
    `Wa`, `X`, `Xprime` and the matrix expressions `J`, `dW`, `dWp`, `dWa`."""

    W: sp.MatrixSymbol
    Wp: sp.MatrixSymbol
    Wa: sp.MatrixSymbol
    X: sp.MatrixSymbol
    Xprime: sp.MatrixSymbol
    J: sp.Expr
    dW: sp.MatrixExpr
    dWp: sp.MatrixExpr
    dWa: sp.MatrixExpr
    path: Path


def expected_loss(W, Wp, Wa, X, Xprime) -> sp.Expr:
    r"""(T1) in expectation, $J = \tfrac12 E\|W_p W x_1 - W_a x_2\|^2$, from $E[x_1 x_1^T] =
    E[x_2 x_2^T] = X + X'$ and $E[x_1 x_2^T] = X$. Works on explicit matrices and on `MatrixSymbol`s
    (then a sum of `Trace`s). No stop-gradient here: `W` and `Wa` are independent arguments."""
    half = sp.Rational(1, 2)
    S = X + Xprime
    terms = (half * sp.Trace(Wp * W * S * W.T * Wp.T), -sp.Trace(Wp * W * X * Wa.T),
             half * sp.Trace(Wa * S * Wa.T))
    if isinstance(W, sp.MatrixBase):
        return sp.expand(sum((term.doit() for term in terms), sp.S.Zero))
    return sp.Add(*terms, evaluate=False)


def _matrix(name: str, rows: int, cols: int, symmetric: bool = False) -> sp.Matrix:
    def entry(i: int, j: int) -> sp.Symbol:
        if symmetric and j < i:
            i, j = j, i
        return sp.Symbol(f"{name}{i + 1}{j + 1}", real=True)

    return sp.Matrix(rows, cols, lambda i, j: entry(i, j))


def _check_size(field: str, n: int) -> None:
    if not (isinstance(n, int) and 1 <= n <= 3):
        raise ConfigError(field, n, "must be 1, 2 or 3 (explicit symbolic sizes; sympy is slow beyond)")


def _gradient(J: sp.Expr, M: sp.Matrix) -> sp.Matrix:
    return M.applyfunc(lambda entry: sp.diff(J, entry))


def isoloss_objective(W, frozen, Wp, Wa, X, Xprime) -> sp.Expr:
    r"""IsoLoss in expectation (§7), $\tfrac12 E\|W x_1 - t\|^2$ with the stop-gradient target
    $t = W_a x_2 - (W_p - I)\bar W x_1$ ($\bar W$ = `frozen`, a copy of W that is not differentiated),
    from $E[x_1 x_1^T] = E[x_2 x_2^T] = X + X'$, $E[x_1 x_2^T] = E[x_2 x_1^T] = X$ (explicit matrices)."""
    S, I = X + Xprime, sp.eye(Wp.shape[0])
    cross = X * Wa.T - S * frozen.T * (Wp - I).T  # E[x1 t^T]
    tt = (Wa * S * Wa.T - Wa * X * frozen.T * (Wp - I).T - (Wp - I) * frozen * X * Wa.T
          + (Wp - I) * frozen * S * frozen.T * (Wp - I).T)  # E[t t^T]
    return (W * S * W.T).trace() / 2 - (W * cross).trace() + tt.trace() / 2


@lru_cache(maxsize=None)
def _derive(path: Path, n1: int, n2: int) -> MatrixFlow:
    W = _matrix("w", n2, n1)
    Wp = _matrix("wp", n2, n2)
    Wa = _matrix("wa", n2, n1)
    X = _matrix("x", n1, n1, symmetric=True)
    Xprime = _matrix("xp", n1, n1, symmetric=True)
    J = expected_loss(W, Wp, Wa, X, Xprime)
    dW = -eta * W
    dWp = -eta_p * Wp
    if path.online_branch_has_gradient:
        if path.isoloss:  # z1 receives dL/dp: differentiate L_iso, then put the frozen copy back to W
            frozen = _matrix("wbar", n2, n1)
            J_iso = sp.expand(isoloss_objective(W, frozen, Wp, Wa, X, Xprime))
            dW = dW - _gradient(J_iso, W).xreplace(dict(zip(frozen, W)))
        else:
            dW = dW - _gradient(J, W)
        grad_p = alpha_p * _gradient(J, Wp)  # the predictor follows T1's gradient for both losses
        if path.predictor == "symmetric":
            grad_p = (grad_p + grad_p.T) / 2
        dWp = dWp - grad_p
    if path.target_branch_has_gradient:
        dW = dW - _gradient(J, Wa)
    if path.predictor == "identity":  # Wp = I, not trained
        eye = dict(zip(Wp, sp.eye(n2)))
        dW, J, dWp = dW.xreplace(eye), J.xreplace(eye), sp.zeros(n2, n2)
    if path.target == "online":  # SimSiam: W_a = W after differentiation
        same = dict(zip(Wa, W))
        dW, dWp, J = dW.xreplace(same), dWp.xreplace(same), J.xreplace(same)
        Wa, dWa = W, dW
    else:
        dWa = beta * (W - Wa)
    expand = lambda M: M.applyfunc(sp.expand)  # noqa: E731
    return MatrixFlow(W, Wp, Wa, X, Xprime, sp.expand(J), expand(dW), expand(dWp), expand(dWa), path)


def derive_flow(predictor="trained", target: str = "ema", stop_gradient: str = "target", *,
                loss: str = "euclidean", n1: int = 2, n2: int = 2) -> MatrixFlow:
    r"""Derive d(W, Wp, Wa)/dt, THEORY.md (T2)-(T5), from (T1) for explicit sizes.

    **Arguments:**

    - `predictor`, `target`, `stop_gradient`, `loss`: the gradient path (strings as in
      `dynamics.flows.GradientPath`, or a `GradientPath` as `predictor`). `loss="isoloss_euclidean"`
      (§7): the online branch's W gradient is that of IsoLoss, $W_p W (X+X') - W_a X$ (T3 without
      $W_p^T$); the predictor still follows (T2), as in `byol_flow`. The identity predictor is
      $W_p = I$ (substituted after differentiating) with $\dot W_p = 0$.
    - `n1`, `n2`: input and output widths, 1-3; every weight entry is its own symbol, X and X' are
      general symmetric matrices.

    **Returns:** a `MatrixFlow` (cached: the same settings return the same object).

    **Raises:** `ConfigError` for an unknown path choice or a size outside 1-3.
    """
    _check_size("n1", n1)
    _check_size("n2", n2)
    return _derive(as_path(predictor, target, stop_gradient, loss), n1, n2)


def _matrix_gradient(J: sp.Expr, M: sp.MatrixSymbol) -> sp.MatrixExpr:
    # Term by term: sympy 1.14 returns 0 for Add.diff(MatrixSymbol) but differentiates each Trace.
    return sp.MatAdd(*(term.diff(M) for term in sp.Add.make_args(J))).doit()


@lru_cache(maxsize=None)
def _derive_matrix_form(path: Path, n1, n2) -> MatrixFlowForm:
    W = sp.MatrixSymbol("W", n2, n1)
    Wp = sp.MatrixSymbol("W_p", n2, n2)
    Wa = sp.MatrixSymbol("W_a", n2, n1)
    X = sp.MatrixSymbol("X", n1, n1)
    Xprime = sp.MatrixSymbol("X'", n1, n1)
    J = expected_loss(W, Wp, Wa, X, Xprime)
    symmetric_data = {sp.Transpose(X): X, sp.Transpose(Xprime): Xprime}
    grad = lambda J_, M: sp.expand(_matrix_gradient(J_, M).xreplace(symmetric_data)).doit()  # noqa: E731
    dW = -eta * W
    dWp = -eta_p * Wp
    if path.online_branch_has_gradient:
        if path.isoloss:  # the W-dependent part of E L_iso; frozen copy Wbar inside the stop-gradient
            frozen = sp.MatrixSymbol("Wbar", n2, n1)
            S = X + Xprime
            J_iso = sp.Add(sp.Rational(1, 2) * sp.Trace(W * S * W.T), -sp.Trace(W * X * Wa.T),
                           sp.Trace(W * S * frozen.T * Wp.T), -sp.Trace(W * S * frozen.T), evaluate=False)
            dW = dW - grad(J_iso, W).xreplace({frozen: W}).doit()
        else:
            dW = dW - grad(J, W)
        grad_p = alpha_p * grad(J, Wp)
        if path.predictor == "symmetric":
            grad_p = ((grad_p + grad_p.T) / 2).doit().xreplace(symmetric_data)
        dWp = dWp - grad_p
    if path.target_branch_has_gradient:
        dW = dW - grad(J, Wa)
    if path.predictor == "identity":
        dW = dW.xreplace({Wp: sp.Identity(n2)}).doit()
        dWp = sp.ZeroMatrix(n2, n2)
    if path.target == "online":
        dW, dWp = dW.xreplace({Wa: W}), dWp.xreplace({Wa: W})
        dWa = dW
    else:
        dWa = beta * (W - Wa)
    tidy = lambda M: sp.expand(M).doit()  # noqa: E731
    return MatrixFlowForm(W, Wp, Wa, X, Xprime, J, tidy(dW), tidy(dWp), tidy(dWa), path)


def matrix_flow(predictor="trained", target: str = "ema", stop_gradient: str = "target", *,
                loss: str = "euclidean", n1=None, n2=None) -> MatrixFlowForm:
    r"""Derive (T2)-(T5) in matrix form with sympy's matrix calculus.

    The gradients of the traces in (T1) with respect to `W`, `W_p`, `W_a` are taken by sympy and
    $X^T = X$, $X'^T = X'$ imposed afterwards. `n1`, `n2` default to symbols (any size); give
    integers to compare with `derive_flow` through `explicit`.

    **Returns:** a `MatrixFlowForm` (cached).
    """
    n1 = sp.Symbol("n1", integer=True, positive=True) if n1 is None else n1
    n2 = sp.Symbol("n2", integer=True, positive=True) if n2 is None else n2
    return _derive_matrix_form(as_path(predictor, target, stop_gradient, loss), n1, n2)


def explicit(expr: sp.MatrixExpr, form: MatrixFlowForm, flow: MatrixFlow) -> sp.Matrix:
    """Evaluate a matrix-form expression (from `matrix_flow` with integer sizes) on the explicit
    symbolic matrices of `flow` (from `derive_flow` with the same sizes); entries expanded."""
    mapping = {form.W: flow.W, form.Wp: flow.Wp, form.X: flow.X, form.Xprime: flow.Xprime}
    if flow.path.target != "online":
        mapping[form.Wa] = flow.Wa
    value = expr.subs(mapping).doit()
    return sp.Matrix(value).applyfunc(sp.expand)
