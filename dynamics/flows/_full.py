"""The full-matrix gradient flow of two-layer linear BYOL, THEORY.md (T2)-(T5) [TCG21 Sec. 2]."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

from ._state import BYOLState, FlowArgs

__all__ = ["byol_flow", "prediction_residual", "expected_loss"]


def prediction_residual(W: Array, Wp: Array, Wa: Array, args: FlowArgs) -> Float[Array, "n2 n1"]:
    r"""$R = W_a X - W_p W (X + X')$, minus the gradient of (T1) with respect to the prediction,
    contracted with the online input; T2 and T3 are $\alpha_p R W^T$ and $W_p^T R$."""
    return Wa @ args.X - Wp @ W @ args.XS


def byol_flow(t: Float[Array, ""], y: BYOLState, args: FlowArgs) -> BYOLState:
    r"""d(W, Wp, Wa)/dt, THEORY.md (T2)-(T4), and (T5) without stop-gradient [TCG21 Sec. 2].

    With $R = W_a X - W_p W (X+X')$:

    - online branch (unless `stop_gradient="online"`): $\dot W \mathrel{+}= W_p^T R$ (T3) and
      $\dot W_p \mathrel{+}= \alpha_p R W^T$ (T2);
    - target branch (unless `stop_gradient="target"`): $\dot W \mathrel{+}= W_p W X - W_a (X+X')$,
      i.e. $-\partial J/\partial W_a$ routed into W; with $W_a = W$ the sum is (T5);
    - weight decay: $-\eta W$, $-\eta_p W_p$;
    - predictor "symmetric": the Wp gradient is symmetrized (A3 of Thm 3); "identity": Wp = I fixed;
    - target "ema": $\dot W_a = \beta (W - W_a)$ (T4); "online": $W_a \equiv W$ (SimSiam), so
      $\dot W_a = \dot W$.

    A pure function of `(t, y, args)`, so it drops into `diffrax.ODETerm`; jit/vmap friendly.
    """
    path = args.path
    W, Wp = y.W, y.Wp
    Wa = W if path.target == "online" else y.Wa
    dW = -args.eta * W
    dWp = -args.eta_p * Wp
    if path.online_branch_has_gradient:
        R = prediction_residual(W, Wp, Wa, args)
        dW = dW + Wp.T @ R
        grad_p = args.alpha_p * R @ W.T
        if path.predictor == "symmetric":
            grad_p = 0.5 * (grad_p + grad_p.T)
        dWp = dWp + grad_p
    if path.target_branch_has_gradient:
        dW = dW + Wp @ W @ args.X - Wa @ args.XS
    if path.predictor == "identity":
        dWp = jnp.zeros_like(Wp)
    dWa = dW if path.target == "online" else args.beta * (W - y.Wa)
    return BYOLState(dW, dWp, dWa)


def expected_loss(W: Array, Wp: Array, Wa: Array, X: Array, XS: Array) -> Float[Array, ""]:
    r"""The objective (T1) in expectation: $J = \tfrac12 E\|W_p W x_1 - W_a x_2\|^2$
    $= \tfrac12 \mathrm{tr}(W_p W (X+X') W^T W_p^T) - \mathrm{tr}(W_p W X W_a^T)
    + \tfrac12 \mathrm{tr}(W_a (X+X') W_a^T)$, using $E[x_1 x_1^T] = E[x_2 x_2^T] = X + X'$ and
    $E[x_1 x_2^T] = X$. No stop-gradient is applied here: callers place it."""
    P = Wp @ W
    return (0.5 * jnp.sum((P @ XS) * P) - jnp.sum((P @ X) * Wa) + 0.5 * jnp.sum((Wa @ XS) * Wa))
