r"""The ER and normalized BYOL minibatch objective of the two-layer linear network, THEORY.md §9
(T27)-(T28) [RBR23] on the model of §1 (T1); it is trained by `dynamics.stochastic.simulate_er`.

Projections are normalized onto the unit sphere: prediction $\hat p = W_pWx_1/\|W_pWx_1\|$, target
$\hat z_2 = W_a x_2/\|W_a x_2\|$, online projection $\hat z_1 = W x_1 / \|W x_1\|$. These losses have no
closed-form expectation, so the expected flow is integrated by sampling (`ERSettings.batches`).
"""

from __future__ import annotations

import jax
from jaxtyping import Array, Float

from ..flows import GradientPath
from ._entropy import kernel_entropy
from ._reconstruction import vmf_reconstruction

__all__ = ["er_minibatch_loss"]


def er_minibatch_loss(W: Array, Wp: Array, Wa: Array, x1: Float[Array, "batch n1"], x2: Float[Array, "batch n1"],
                      path: GradientPath, entropy_weight: float | Array = 1.0, kappa: float = 10.0,
                      plugin: bool = False) -> Float[Array, ""]:
    r"""The sampled objective $\mathrm{rec}(\hat p, \hat z_2) - w\,\hat H(\hat z_1)$, THEORY.md
    (T27)-(T28): $w$ = `entropy_weight` = 1 is ER (`ERSettings.objective="er"`), $w = 0$ is
    BYOL's normalized loss ($\mathrm{rec} = (\kappa/2)\frac1B\sum\|\hat p - \hat z_2\|^2$ + const,
    `"byol"`). The weight may be a traced scalar, so both objectives share one compilation.

    Stop-gradients as in `dynamics.stochastic.minibatch_loss`: the target branch $W_a x_2$ is
    constant for `stop_gradient="target"` and straight-through into W otherwise; with
    `stop_gradient="online"` the online branch (prediction and entropy) carries no gradient;
    `target="online"` uses W as target weights. The entropy is on the online projections $W x_1$.
    """
    sg = jax.lax.stop_gradient
    target = W if path.target == "online" else Wa
    target = sg(target) + (W - sg(W)) if path.target_branch_has_gradient else sg(target)
    online_W = W if path.online_branch_has_gradient else sg(W)
    prediction_W = Wp @ online_W if path.online_branch_has_gradient else sg(Wp @ W)
    rec = vmf_reconstruction(x1 @ prediction_W.T, x2 @ target.T, kappa)
    return rec - entropy_weight * kernel_entropy(x1 @ online_W.T, kappa, plugin)
