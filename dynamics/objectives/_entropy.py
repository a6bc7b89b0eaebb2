r"""Entropy estimators of the ER bound, THEORY.md (T27)-(T28) [RBR23]: the von Mises-Fisher kernel
density estimate on the sphere and the entropy of the batch-mean softmax distribution."""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..config import ConfigError
from ._bessel import log_vmf_normalizer

__all__ = ["normalize_rows", "kernel_log_densities", "kernel_entropy", "batch_mean_entropy"]


def normalize_rows(z: Float[Array, "k d"]) -> Float[Array, "k d"]:
    r"""$z_i / \|z_i\|$ (projection onto the unit sphere); a zero row stays zero (its norm is
    clamped at the smallest normal number of the dtype), so the map is finite everywhere."""
    norm = jnp.linalg.norm(z, axis=-1, keepdims=True)
    return z / jnp.maximum(norm, jnp.finfo(z.dtype).tiny)


def _check_kappa(kappa: float) -> float:
    if isinstance(kappa, bool) or not isinstance(kappa, (int, float)) or not math.isfinite(kappa) or kappa <= 0:
        raise ConfigError("kappa", kappa, "must be a finite number > 0 (vMF concentration, T28)")
    return float(kappa)


@partial(jax.jit, static_argnames=("kappa",))
def kernel_log_densities(z: Float[Array, "k d"], kappa: float = 10.0) -> Float[Array, " k"]:
    r"""$\ell_i = -\log\big(\frac1k \sum_j C_d(\kappa) \exp(\kappa \hat z_i^T \hat z_j)\big)$, THEORY.md
    (T28): minus the log of the vMF kernel density estimate at each point, self term ($j = i$)
    included, on the unit-normalized rows $\hat z_i$ of `z` (k points in d dimensions).

    Computed as $-\log C_d(\kappa) + \log k - \mathrm{logsumexp}_j(\kappa \hat z_i^T \hat z_j)$;
    $\log C_d(\kappa)$ comes from `log_vmf_normalizer` (a float64 constant, no underflow for large d).
    `kappa` is a Python number (a static argument: each value compiles once); differentiable in `z`.

    **Raises:** `ConfigError` naming `kappa` (or `d` for a zero-width `z`).
    """
    kappa = _check_kappa(kappa)
    k, d = z.shape
    log_c = log_vmf_normalizer(int(d), kappa)
    zn = normalize_rows(z)
    gram = kappa * (zn @ zn.T)
    return -log_c + math.log(k) - jax.nn.logsumexp(gram, axis=-1)


@partial(jax.jit, static_argnames=("kappa", "plugin"))
def kernel_entropy(z: Float[Array, "k d"], kappa: float = 10.0, plugin: bool = False) -> Float[Array, ""]:
    r"""The vMF kernel density entropy estimate $\hat H$ of THEORY.md (T28) [RBR23 Sec. 4.1].

    With $\ell_i$ from `kernel_log_densities` (self term included):

    - `plugin=False` (the resubstitution average): $\hat H = \frac1k \sum_i \ell_i$;
    - `plugin=True` (the "expectation" / plug-in variant): $\hat H = \sum_i w_i \ell_i$ with
      $w = \mathrm{softmax}_i(-\ell_i)$, i.e. each point weighted by its estimated density.

    Range: every $\ell_i$ lies in $[-\kappa - \log C_d(\kappa),\ \log k - \kappa - \log C_d(\kappa)]$
    (the self term alone gives the upper end, all points at one location the lower end), so the
    dynamic range $\hat H(\text{spread}) - \hat H(\text{collapsed})$ is at most $\log k$; the value
    itself includes $-\log C_d(\kappa)$ (about $-130.5$ for 512 random unit vectors at d = 128,
    $\kappa = 10$).

    **Arguments:** `z` (k x d, rows are normalized here), `kappa` (a Python number > 0, default 10
    as in [RBR23]), `plugin`.

    **Returns:** a scalar (nats), differentiable in `z`.

    ??? cite "References"
        Rodríguez-Gálvez et al., *The Role of Entropy and Reconstruction in Multi-View
        Self-Supervised Learning*, ICML 2023 (arXiv 2307.10907).
    """
    ell = kernel_log_densities(z, kappa)
    if plugin:
        return jnp.sum(jax.nn.softmax(-ell) * ell)
    return jnp.mean(ell)


@jax.jit
def batch_mean_entropy(p: Float[Array, "k K"]) -> Float[Array, ""]:
    r"""$H(\bar p) = -\sum_c \bar p_c \log \bar p_c$ with $\bar p = \frac1k \sum_i p_i$: the entropy
    of the batch-mean distribution of discrete (softmax) projections, THEORY.md §9 [RBR23] and the
    maximality term of (T29) [DHEL22]. Rows of `p` are probability vectors over K prototypes;
    $0 \log 0 = 0$. Between 0 (every row the same one-hot) and $\log K$ (uniform marginal)."""
    mean = jnp.mean(p, axis=0)
    return jnp.sum(jax.scipy.special.entr(mean))
