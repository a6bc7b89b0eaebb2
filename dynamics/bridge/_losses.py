r"""The training losses of the bridge's methods, each the simulator's definition applied to a network's
outputs (rows are samples; every loss is a batch mean, symmetrized over the two view orders by the step).

- predictive (`training_loss`): the simulator's per-sample losses, Euclidean $\tfrac12\|p - t\|^2$ (T1)
  or BYOL's $2 - 2\cos(p, t) = 2 + 2\,$`cosine_sample_loss` (`dynamics.flows`);
- IsoLoss (`isoloss_training_loss`, §7, T23): the same loss, but the online output $f$ receives
  $\partial\bar\ell/\partial p$ instead of $(\partial p/\partial f)^T \partial\bar\ell/\partial p$;
- ER (`er_training_loss`, T27-T28): `dynamics.objectives.er_loss`, vMF reconstruction of the target
  from the prediction minus the kernel entropy of the online projections;
- DISSL / CISSL (`issl_training_loss`, T29 / §10): `dynamics.issl.dissl_loss` / `cissl_loss` on the
  two views' online projections, with the heads as trainable parameters (`_heads.py`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..flows import cosine_sample_loss, euclidean_sample_loss
from ..issl import ISSLWeights, cissl_loss, dissl_loss
from ..objectives import er_loss
from ._heads import heads_as_issl_params

__all__ = ["COSINE_FLOOR", "training_loss", "isoloss_training_loss", "er_training_loss", "issl_training_loss"]

#: Relative floor of the cosine loss' norms (`cosine_sample_loss`): keeps a zero prediction finite.
COSINE_FLOOR = 1e-6


def training_loss(loss: str, p: Float[Array, "b d"], t: Float[Array, "b d"]) -> Float[Array, ""]:
    r"""Batch mean of the per-sample loss: $\tfrac12\|p - t\|^2$ (T1, `loss="euclidean"`) or
    $2 - 2\cos(p, t)$ (`"cosine"`, norms floored at `COSINE_FLOOR` of their RMS)."""
    if loss == "euclidean":
        return jnp.mean(euclidean_sample_loss(p, t))
    return jnp.mean(2.0 + 2.0 * cosine_sample_loss(p, t, floor=COSINE_FLOOR))


def isoloss_training_loss(base: str, p: Float[Array, "b d"], f: Float[Array, "b d"], t: Float[Array, "b d"]
                          ) -> Float[Array, ""]:
    r"""IsoLoss (THEORY.md §7, T23) of the base loss `base` (`"euclidean"` or `"cosine"`):
    $\bar\ell(p + f - \mathrm{sg}(f),\ t)$, where `p` must have been computed from $\mathrm{sg}(f)$.

    Its value is $\bar\ell(p, t)$ exactly; its gradient is $\partial\bar\ell/\partial p$ for the online
    output $f$ (the identity of §7, $\partial L_{iso}/\partial z_1 = \partial L/\partial p$), the usual
    $\partial\bar\ell/\partial\theta_p$ for a trained predictor's parameters (through `p`), and the
    target's gradient when `t` carries one. This is the simulator's `isoloss` / `sampled_objective`
    routing (there: $\tfrac12\|z_1 - \mathrm{sg}(z_1 - \partial\ell/\partial p)\|^2$, the same gradient),
    written for any predictor; [HLZ23]'s code realizes the cosine case with $W_p^{1/2} z$, whose
    $\tfrac12\|W_p^{1/2} z\|^2$ has gradient $p$ for a symmetric $W_p$: the same gradient again.

    **Arguments:** `base`; `p` the prediction (rows) from the detached online output; `f` the online
    output (the predictor's input); `t` the target.

    **Returns:** the batch-mean loss (a scalar).
    """
    return training_loss(base, p + (f - jax.lax.stop_gradient(f)), t)


def er_training_loss(p1: Array, p2: Array, t1: Array, t2: Array, f1: Array, f2: Array, kappa: float
                     ) -> Float[Array, ""]:
    r"""ER (T27)-(T28) symmetrized over the views: $\tfrac12[\mathrm{rec}(p_1, t_2) - \hat H(f_1)
    + \mathrm{rec}(p_2, t_1) - \hat H(f_2)]$ with `dynamics.objectives.er_loss` ($\mathrm{rec}$ the vMF
    reconstruction of the normalized target from the normalized prediction at concentration `kappa`,
    $\hat H$ the vMF kernel entropy of the normalized online projections of the batch, self term
    included). Since $\mathrm{rec} = (\kappa/2)\,\overline{\|\hat p - \hat t\|^2} - \kappa - \log
    C_d(\kappa)$, the reconstruction is BYOL's normalized loss up to scale and constant."""
    return 0.5 * (er_loss(p1, t2, f1, kappa) + er_loss(p2, t1, f2, kappa))


def issl_training_loss(objective: str, heads: dict[str, Array], f1: Array, f2: Array, weights: ISSLWeights
                       ) -> tuple[Float[Array, ""], dict[str, Any]]:
    r"""DISSL (T29, `objective="dissl"`) or CISSL (§10, `"cissl"`) of the projections `f1`, `f2` of the
    two views through the heads `heads` (`_heads.init_heads`): `dynamics.issl.dissl_loss` /
    `cissl_loss`, which average over both view orders and use no stop-gradient. `weights`: $\lambda$,
    $\beta$, the temperatures (`ISSLWeights`).

    **Returns:** (loss, its parts as the simulator names them)."""
    params = heads_as_issl_params(heads)
    if objective == "dissl":
        return dissl_loss(params, f1, f2, weights)
    return cissl_loss(params, f1, f2, weights)
