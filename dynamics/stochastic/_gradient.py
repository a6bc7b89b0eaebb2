"""The minibatch loss (T1) and its gradient with the stop-gradient of a `GradientPath`.

Gradients come from `jax.grad` of the sampled loss with `jax.lax.stop_gradient` placed by hand, not
from `byol_flow`: in expectation they must reproduce the hand-written vector field (T2)-(T5), which
is what `tests/test_stochastic.py` checks.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..flows import BYOLState, GradientPath, sampled_descent

__all__ = ["Params", "minibatch_loss", "minibatch_gradients"]


class Params(NamedTuple):
    """The trained weights (the optimizer's pytree): online `W` (n2 x n1), predictor `Wp` (n2 x n2).
    The target Wa is not trained: it follows W by EMA (T4) or equals it (SimSiam)."""

    W: Float[Array, "n2 n1"]
    Wp: Float[Array, "n2 n2"]


def minibatch_loss(W: Array, Wp: Array, Wa: Array, x1: Float[Array, "batch n1"],
                   x2: Float[Array, "batch n1"], path: GradientPath) -> Float[Array, ""]:
    r"""(T1) on a minibatch: $\hat J = \tfrac12 \frac1B \sum_b \|W_p W x_{1,b} - W_a x_{2,b}\|^2$,
    with the stop-gradient placed as `byol_flow` documents.

    - `target="online"`: the target weights are W itself ($W_a \equiv W$, SimSiam); `Wa` is unused.
    - online branch $W_p W x_1$: differentiable in W and Wp unless `stop_gradient="online"`.
    - target branch $W_a x_2$: constant for `stop_gradient="target"`; otherwise straight-through,
      $\mathrm{sg}(W_a) + W - \mathrm{sg}(W)$: the value is Wa, and $\partial\hat J/\partial W_a$ is
      routed into W (with Wa = W this is plain back-propagation through both branches, (T5)).

    The value is the same for every path; only the gradient differs.
    """
    sg = jax.lax.stop_gradient
    target = W if path.target == "online" else Wa
    if path.target_branch_has_gradient:
        target = sg(target) + (W - sg(W))
    else:
        target = sg(target)
    online = Wp @ W if path.online_branch_has_gradient else sg(Wp @ W)
    diff = x1 @ online.T - x2 @ target.T
    return 0.5 * jnp.mean(jnp.sum(diff * diff, axis=-1))


def minibatch_gradients(state: BYOLState, x1: Float[Array, "batch n1"], x2: Float[Array, "batch n1"],
                        path: GradientPath) -> Params:
    r"""$(\partial\hat J/\partial W, \partial\hat J/\partial W_p)$ of `minibatch_loss` by `jax.grad`.

    Predictor `"symmetric"`: the Wp gradient is symmetrized, $(G + G^T)/2$ (A3 of Thm 3);
    `"identity"` and the closed forms: zero (Wp stays as set; a closed form enters the loss as a
    constant). No weight decay here; the optimizer adds it.
    In expectation over the views, $-\partial\hat J/\partial W$ is the gradient part of (T3)
    (or (T5)), and $-\alpha_p \partial\hat J/\partial W_p$ that of (T2).

    Losses other than the Euclidean one (`path.loss`: cosine, IsoLoss) and closed-form predictors
    use `dynamics.flows.sampled_descent` on the minibatch: the same per-sample losses and gradient
    routing as the sampled expected flow.
    """
    if path.loss != "euclidean" or path.predictor_is_closed_form:
        dW, dWp = sampled_descent(state.W, state.Wp, state.Wa, x1, x2, path)
        gW, gWp = -dW, -dWp
    else:
        gW, gWp = jax.grad(minibatch_loss, argnums=(0, 1))(state.W, state.Wp, state.Wa, x1, x2, path)
    if path.predictor == "symmetric":
        gWp = 0.5 * (gWp + gWp.T)
    elif not path.predictor_is_trained:
        gWp = jnp.zeros_like(gWp)
    return Params(gW, gWp)
