r"""Per-sample gradients of the cosine loss and of IsoLoss, and the expected IsoLoss flow,
THEORY.md §7 (T22)-(T24) [HLZ23].

- **IsoLoss.** $L_{iso} = \tfrac12 \|z_1 - \mathrm{sg}(z_2 - (W_p - I) z_1)\|^2$: the stop-gradient is
  realized by a frozen copy $\bar z_1$ of $z_1$ inside sg; after differentiating, $\bar z_1 = z_1$.
  Its gradient for $z_1$ is $\partial L/\partial p = p - z_2$ (T1's own is $W_p^T (p - z_2)$).
- **Cosine loss.** $\ell = -p^T \bar z_2 / (\|p\| \|\bar z_2\|)$, $p = W_p W x_1$, $\bar z_2$ = sg($W
  x_2$), $W_p$ held fixed: $\ell(cW) = \ell(W)$ for $c > 0$ (degree-0 homogeneous in the online
  branch), so Euler's theorem gives $\langle W, \nabla_W \ell \rangle = 0$ per sample, and the flow
  conserves $\mathrm{tr}(W W^T)$ (T24).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import sympy as sp

from ._derive import MatrixFlow, _check_size, _matrix, expected_loss, isoloss_objective
from ._symbols import Path, eta

__all__ = ["IsoLossGradient", "CosineGradient", "isoloss_sample_gradient", "cosine_sample_gradient",
           "isoloss_flow", "isoloss_value_matches_T1"]


class IsoLossGradient(NamedTuple):
    """Per-sample IsoLoss: inputs `z1`, `z2` (column vectors), predictor `Wp`, the loss value
    `loss_iso` and T1's value `loss`, and the gradients for z1: `grad_iso` (IsoLoss), `grad_p`
    ($\\partial L/\\partial p$ at $p = W_p z_1$) and `grad_T1` (T1's own, $W_p^T(p - z_2)$)."""

    z1: sp.Matrix
    z2: sp.Matrix
    Wp: sp.Matrix
    loss_iso: sp.Expr
    loss: sp.Expr
    grad_iso: sp.Matrix
    grad_p: sp.Matrix
    grad_T1: sp.Matrix


class CosineGradient(NamedTuple):
    r"""Per-sample cosine loss: weights `W`, `Wp`, views `x1`, `x2`, the loss, its gradient
    `grad_W` (target branch stopped, $W_p$ fixed), `euler` $= \langle W, \nabla_W \ell\rangle
    \|p\|^3 \|z_2\|$ expanded (a polynomial: zero proves T24's per-sample identity), and
    `scale_change` $= \ell(cW) - \ell(W)$ ($c > 0$ the symbol `c`; zero: degree-0 homogeneity)."""

    W: sp.Matrix
    Wp: sp.Matrix
    x1: sp.Matrix
    x2: sp.Matrix
    loss: sp.Expr
    grad_W: sp.Matrix
    euler: sp.Expr
    scale_change: sp.Expr


def _vector(name: str, n: int) -> sp.Matrix:
    return sp.Matrix([sp.Symbol(f"{name}{i + 1}", real=True) for i in range(n)])


@lru_cache(maxsize=None)
def isoloss_sample_gradient(n: int = 2) -> IsoLossGradient:
    r"""Derive the per-sample IsoLoss gradient for $z_1$ (THEORY.md §7, identity
    $\partial L_{iso}/\partial z_1 = \partial L/\partial p$) in dimension `n` (1-3)."""
    _check_size("n", n)
    z1, z2, frozen = _vector("z1_", n), _vector("z2_", n), _vector("zbar1_", n)
    Wp = _matrix("wp", n, n)
    I = sp.eye(n)
    target = z2 - (Wp - I) * frozen  # inside the stop-gradient
    loss_iso = ((z1 - target).T * (z1 - target))[0, 0] / 2
    grad_iso = sp.Matrix([sp.diff(loss_iso, z) for z in z1]).subs(dict(zip(frozen, z1)))
    pred = sp.Matrix([sp.Symbol(f"p{i + 1}", real=True) for i in range(n)])
    loss_p = ((pred - z2).T * (pred - z2))[0, 0] / 2
    at_p = dict(zip(pred, Wp * z1))
    grad_p = sp.Matrix([sp.diff(loss_p, q) for q in pred]).subs(at_p)
    loss = loss_p.subs(at_p)
    grad_T1 = sp.Matrix([sp.diff(loss, z) for z in z1])
    expand = lambda M: M.applyfunc(sp.expand)  # noqa: E731
    return IsoLossGradient(z1, z2, Wp, sp.expand(loss_iso.subs(dict(zip(frozen, z1)))), sp.expand(loss),
                           expand(grad_iso), expand(grad_p), expand(grad_T1))


@lru_cache(maxsize=None)
def cosine_sample_gradient(n1: int = 2, n2: int = 2) -> CosineGradient:
    r"""Derive the per-sample cosine-loss gradient for W and prove $\langle W, \nabla_W\ell\rangle = 0$
    (T24) for sizes `n1`, `n2` (1-3; 2 x 2 takes about a second)."""
    _check_size("n1", n1)
    _check_size("n2", n2)
    W, Wp, frozen = _matrix("w", n2, n1), _matrix("wp", n2, n2), _matrix("wbar", n2, n1)
    x1, x2 = _vector("x1_", n1), _vector("x2_", n1)
    c = sp.Symbol("c", positive=True)

    def parts(M: sp.Matrix) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
        pred, z2 = Wp * M * x1, frozen * x2  # z2 = sg(W x2): the frozen copy
        # factor_terms pulls c out of each polynomial, so sqrt(c^2 Q) = c sqrt(Q) for c > 0.
        squared = lambda v: sp.factor_terms(sp.expand((v.T * v)[0, 0]))  # noqa: E731
        return sp.factor_terms(sp.expand((pred.T * z2)[0, 0])), squared(pred), squared(z2)

    def loss_of(M: sp.Matrix) -> sp.Expr:
        dot, q_pred, q_target = parts(M)
        return -dot / (sp.sqrt(q_pred) * sp.sqrt(q_target))

    loss = loss_of(W)
    grad = W.applyfunc(lambda entry: sp.diff(loss, entry))
    # Euler sum with ||p||^2 kept as an undefined function Q(W) while differentiating; then
    # dQ/dw_ij is put in, Q = nu^2 (nu > 0), the denominators nu^3 ||z2|| are cleared and nu^2 = Q is
    # put back: what is left is a polynomial in the entries, and it expands to zero.
    dot, q_pred, q_target = parts(W)
    entries = list(W)
    Q = sp.Function("Q")(*entries)
    nu = sp.Symbol("nu", positive=True)
    placeholder = -dot / (sp.sqrt(Q) * sp.sqrt(q_target))
    euler = sum((e * sp.diff(placeholder, e) for e in entries), sp.S.Zero)
    euler = euler.subs({sp.Derivative(Q, e): sp.diff(q_pred, e) for e in entries}).subs(Q, nu**2)
    euler = sp.expand(sp.expand(euler * nu**3 * sp.sqrt(q_target)).subs(nu, sp.sqrt(q_pred)))
    scale_change = sp.expand(loss_of(c * W) - loss)
    same = dict(zip(frozen, W))
    return CosineGradient(W, Wp, x1, x2, loss.subs(same), grad.subs(same), euler.subs(same), scale_change)


@lru_cache(maxsize=None)
def _isoloss_flow(n1: int, n2: int) -> MatrixFlow:
    W, Wp, Wa = _matrix("w", n2, n1), _matrix("wp", n2, n2), _matrix("wa", n2, n1)
    frozen = _matrix("wbar", n2, n1)
    X, Xprime = _matrix("x", n1, n1, symmetric=True), _matrix("xp", n1, n1, symmetric=True)
    J_iso = isoloss_objective(W, frozen, Wp, Wa, X, Xprime)
    same = dict(zip(frozen, W))
    dW = (-W.applyfunc(lambda e: sp.diff(J_iso, e)).subs(same) - eta * W).applyfunc(sp.expand)
    J = sp.expand(J_iso.subs(same))
    return MatrixFlow(W, Wp, Wa, X, Xprime, J, dW, sp.zeros(n2, n2), sp.zeros(n2, n1),
                      Path("ema", "target", "trained", "isoloss_euclidean"))


def isoloss_flow(n1: int = 2, n2: int = 2) -> MatrixFlow:
    r"""The expected IsoLoss flow of the online weights for explicit sizes, derived from
    $L_{iso}$ with the frozen copy: $\dot W = -(W_p W (X + X') - W_a X) - \eta W$, i.e. T3 without the
    $W_p^T$ factor (T23 with the closed-form $W_p$). `dWp` and `dWa` are left zero (the predictor is
    set in closed form; put the target in by substitution); `J` is the loss value at $\bar W = W$,
    which equals (T1) (`expected_loss`)."""
    _check_size("n1", n1)
    _check_size("n2", n2)
    return _isoloss_flow(n1, n2)


def isoloss_value_matches_T1(n1: int = 2, n2: int = 2) -> bool:
    """True when the IsoLoss value equals (T1) in expectation (same value, different gradient)."""
    flow = isoloss_flow(n1, n2)
    return sp.expand(flow.J - expected_loss(flow.W, flow.Wp, flow.Wa, flow.X, flow.Xprime)) == 0
