r"""Reconstruction terms of the ER bound and the ER objective, THEORY.md (T27)-(T28) [RBR23]."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._bessel import log_vmf_normalizer
from ._entropy import _check_kappa, batch_mean_entropy, kernel_entropy, normalize_rows

__all__ = ["vmf_reconstruction", "discrete_reconstruction", "er_loss", "discrete_er_loss"]


@partial(jax.jit, static_argnames=("kappa",))
def vmf_reconstruction(z1: Float[Array, "k d"], z2: Float[Array, "k d"], kappa: float = 10.0) -> Float[Array, ""]:
    r"""$\mathrm{rec} = \frac1k\sum_i\big[-\kappa\,\hat z_{1,i}^T \hat z_{2,i}\big] - \log C_d(\kappa)$, the
    negative log-likelihood of $\hat z_2$ under $\mathrm{vMF}(\hat z_1, \kappa)$, THEORY.md §9 (T27)
    [RBR23]; rows are unit-normalized here.

    For unit vectors $\|\hat z_1 - \hat z_2\|^2 = 2 - 2\hat z_1^T \hat z_2$, so with BYOL's normalized
    loss $L = \frac1k\sum_i \|\hat z_{1,i} - \hat z_{2,i}\|^2$:
    $\mathrm{rec} = (\kappa/2) L - \kappa - \log C_d(\kappa)$ (BYOL's loss is the reconstruction term).
    `z1` is the prediction (the vMF mean), `z2` the target; place stop-gradients outside.
    """
    kappa = _check_kappa(kappa)
    log_c = log_vmf_normalizer(int(z1.shape[-1]), kappa)
    cos = jnp.sum(normalize_rows(z1) * normalize_rows(z2), axis=-1)
    return -kappa * jnp.mean(cos) - log_c


@partial(jax.jit, static_argnames=("symmetric",))
def discrete_reconstruction(p1: Float[Array, "k K"], p2: Float[Array, "k K"], symmetric: bool = True
                            ) -> Float[Array, ""]:
    r"""Cross-entropy between the softmax projections of two views, THEORY.md §9 [RBR23]:
    $\frac1k\sum_i -\sum_c p_{1,ic}\log p_{2,ic}$; `symmetric=True` averages it with the reverse
    direction (as the [RBR23] code does). Rows are probability vectors; $0\log 0 = 0$, and a zero
    in `p2` where `p1` is positive gives $+\infty$."""
    def ce(a, b):
        return jnp.mean(-jnp.sum(jax.scipy.special.xlogy(a, b), axis=-1))
    if symmetric:
        return 0.5 * (ce(p1, p2) + ce(p2, p1))
    return ce(p1, p2)


@partial(jax.jit, static_argnames=("kappa", "plugin"))
def er_loss(prediction: Float[Array, "k d"], target: Float[Array, "k d"], online: Float[Array, "k d"],
            kappa: float = 10.0, plugin: bool = False) -> Float[Array, ""]:
    r"""The ER objective to minimize, THEORY.md (T27)-(T28) [RBR23]: $\mathrm{rec} - \hat H$ with
    $\mathrm{rec}$ = `vmf_reconstruction(prediction, target)` and $\hat H$ = `kernel_entropy(online)`.

    The entropy must be taken on an online quantity (a stop-gradient target would give it no
    gradient); in the linear model `online` is $W x_1$. Stop-gradients are the caller's.
    """
    return vmf_reconstruction(prediction, target, kappa) - kernel_entropy(online, kappa, plugin)


@partial(jax.jit, static_argnames=("symmetric",))
def discrete_er_loss(p_prediction: Float[Array, "k K"], p_target: Float[Array, "k K"],
                     p_online: Float[Array, "k K"], symmetric: bool = True) -> Float[Array, ""]:
    r"""Discrete ER, THEORY.md §9 [RBR23]: `discrete_reconstruction` minus `batch_mean_entropy`
    of the online softmax projections."""
    return discrete_reconstruction(p_prediction, p_target, symmetric) - batch_mean_entropy(p_online)
