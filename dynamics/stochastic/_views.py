"""Two augmented views of Gaussian data with the second moments of THEORY.md §1."""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np
from jaxtyping import Array, Float

__all__ = ["ViewFactors", "view_factors", "sample_views"]


class ViewFactors(NamedTuple):
    r"""Square-root factors of the data moments: `LX` $L_X L_X^T = X$ (Cholesky) and `LXp`
    $L' L'^T = X'$ (symmetric PSD square root from `eigh`, so a singular X', even X' = 0, is fine)."""

    LX: Float[Array, "n1 n1"]
    LXp: Float[Array, "n1 n1"]


def _psd_sqrt(A: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(0.5 * (A + A.T))
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def view_factors(X: np.ndarray, Xprime: np.ndarray, dtype=np.float64) -> ViewFactors:
    r"""`ViewFactors` of $X$ (symmetric positive definite) and $X'$ (positive semi-definite).

    Computed in float64 numpy and cast to `dtype`. X uses a Cholesky factor (an `eigh` square root
    if Cholesky fails on an ill-conditioned X); X' always uses the `eigh` square root with negative
    round-off eigenvalues clipped to 0.
    """
    X = np.asarray(X, dtype=np.float64)
    Xp = np.asarray(Xprime, dtype=np.float64)
    try:
        LX = np.linalg.cholesky(0.5 * (X + X.T))
    except np.linalg.LinAlgError:
        LX = _psd_sqrt(X)
    return ViewFactors(np.asarray(LX, dtype), np.asarray(_psd_sqrt(Xp), dtype))


def sample_views(key: Array, factors: ViewFactors, batch_size: int
                 ) -> tuple[Float[Array, "batch n1"], Float[Array, "batch n1"]]:
    r"""A minibatch of view pairs, THEORY.md §1.

    $\bar x \sim N(0, X)$ (the augmentation mean), $x_1 = \bar x + e_1$, $x_2 = \bar x + e_2$ with
    independent $e_1, e_2 \sim N(0, X')$, so $E[x_1 x_2^T] = X$ and
    $E[x_1 x_1^T] = E[x_2 x_2^T] = X + X'$. Rows are samples; the dtype is that of `factors`.

    **Arguments:** `key` (a `jax.random` key, consumed), `factors` from `view_factors`,
    `batch_size` (static).
    """
    LX, LXp = factors
    n1 = LX.shape[0]
    z = jax.random.normal(key, (3, batch_size, n1), dtype=LX.dtype)
    xbar = z[0] @ LX.T
    return xbar + z[1] @ LXp.T, xbar + z[2] @ LXp.T
