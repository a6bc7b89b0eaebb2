r"""Conserved quantities of the derived flows: Theorem 1 (T6) and the mode integral (T14) [TCG21].

- (T6): with $\eta_p = \eta$, $M = W W^T - \alpha_p^{-1} W_p^T W_p$ obeys $\dot M = -2\eta M$ whatever
  $W_a$ does, for the trained predictor with the stop-gradient on the target. `balance_residual`
  returns $\dot M + 2\eta M$ for explicit sizes (zero when Theorem 1 holds; not zero without the
  stop-gradient, with it on the wrong side, or with the symmetrized predictor gradient).
- (T14): per mode, $\frac{d}{dt}\big[e^{2\eta t}(s - p^2/\alpha_p)\big] = 0$ along (T11)-(T12) with
  $\eta_p = \eta$, whatever $\tau_j$ and $\beta$ do (`mode_integral_residual`).
"""

from __future__ import annotations

import sympy as sp

from ._derive import derive_flow
from ._modes import mode_system
from ._symbols import alpha_p, eta, eta_p, p, s, t
from ._system import ModeSystem

__all__ = ["balance_residual", "mode_integral_residual"]


def balance_residual(predictor: str = "trained", target="ema", stop_gradient: str = "target", *,
                     n1: int = 2, n2: int = 2) -> sp.Matrix:
    r"""$\dot M + 2\eta M$ for $M = W W^T - \alpha_p^{-1} W_p^T W_p$ (T6), from the derived flow with
    $\eta_p = \eta$ and general symbolic entries (n2 x n2, expanded). Zero proves Theorem 1 for
    that gradient path and size."""
    flow = derive_flow(predictor, target, stop_gradient, n1=n1, n2=n2)
    W, Wp, dW, dWp = flow.W, flow.Wp, flow.dW, flow.dWp
    M = W * W.T - Wp.T * Wp / alpha_p
    dM = dW * W.T + W * dW.T - (dWp.T * Wp + Wp.T * dWp) / alpha_p
    return (dM + 2 * eta * M).subs(eta_p, eta).applyfunc(sp.expand)


def mode_integral_residual(system: ModeSystem | None = None) -> sp.Expr:
    r"""$\frac{d}{dt}\big[e^{2\eta t}(s - p^2/\alpha_p)\big] e^{-2\eta t}$ along a mode system with
    $\eta_p = \eta$ (default: `mode_system()`, general eigenvalues, EMA). Zero proves (T14):
    $s(t) = p(t)^2/\alpha_p + e^{-2\eta t} c$, $c = s(0) - p(0)^2/\alpha_p$."""
    system = mode_system() if system is None else system
    dp, ds = system.derivative("p"), system.derivative("s")
    c = sp.exp(2 * eta * t) * (s - p**2 / alpha_p)
    total = sp.diff(c, t) + sp.diff(c, s) * ds + sp.diff(c, p) * dp
    return sp.simplify(sp.expand(total * sp.exp(-2 * eta * t)).subs(eta_p, eta))
