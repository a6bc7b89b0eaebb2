r"""Views of Gaussian data with the second moments X, X' of THEORY.md §1: the fixed sample of view
pairs behind `expectation="sampled"` (common random numbers) and the fresh minibatches of the
discrete simulations (`view_factors`, `sample_views`).

The expected flow of a loss without a closed-form expectation (the cosine loss, §7) is integrated
as the gradient flow of the loss averaged over one large sample of view pairs, drawn once: the
same standard normal draws (`sample_seed`, `n_samples`, `n1`) are reused by every run, so runs that
differ in a rate or in sigma^2 differ by their settings, not by their noise. The draws are
moment-matched (whitened), so the sample's second moments are exactly X and X': the sampled flow of
a Euclidean loss is then exactly the flow (T2)-(T5), and only the losses that see higher moments
(the cosine loss) carry sampling error.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np
from jaxtyping import Array, Float

__all__ = ["psd_sqrt", "view_pair_sample", "ViewFactors", "view_factors", "sample_views"]


def psd_sqrt(A: np.ndarray) -> np.ndarray:
    """The symmetric PSD square root of `A` (symmetrized; negative round-off eigenvalues clipped to
    0), in float64 numpy from `eigh`."""
    vals, vecs = np.linalg.eigh(0.5 * (A + A.T))
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def view_pair_sample(X: np.ndarray, Xprime: np.ndarray, n_samples: int, seed: int,
                     dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    r"""`n_samples` view pairs with the moments of THEORY.md §1, in both orders (2 n rows each).

    $\bar x = L_X g_0$, $x_1 = \bar x + L' g_1$, $x_2 = \bar x + L' g_2$ with $L_X L_X^T = X$,
    $L' L'^T = X'$ (symmetric PSD square roots) and $g = (g_0, g_1, g_2)$ the rows of one
    `numpy.random.default_rng(seed).standard_normal((n_samples, 3 n1))` draw, whitened so that
    $\overline{g g^T} = I$ exactly (right-multiplied by the inverse square root of its sample second
    moment; needs n_samples >= 3 n1). Hence $\overline{x_1 x_2^T} = X$ and
    $\overline{x_1 x_1^T} = \overline{x_2 x_2^T} = X + X'$ exactly. The pairs are returned as
    `(concat(x1, x2), concat(x2, x1))`: the symmetric loss of §1 (both view orders).

    **Returns:** `(x1, x2)`, numpy arrays of shape (2 n_samples, n1) in `dtype`.

    **Raises:** `ValueError` when n_samples < 3 n1 (`Config` checks this first, naming `n_samples`).
    """
    X = np.asarray(X, dtype=np.float64)
    n1 = X.shape[0]
    if n_samples < 3 * n1:
        raise ValueError(f"n_samples = {n_samples}: must be >= 3 n1 = {3 * n1} to match the moments")
    g = np.random.default_rng(seed).standard_normal((n_samples, 3 * n1))
    vals, vecs = np.linalg.eigh(g.T @ g / n_samples)
    g = g @ (vecs / np.sqrt(vals)) @ vecs.T
    LX, LXp = psd_sqrt(X), psd_sqrt(np.asarray(Xprime, dtype=np.float64))
    xbar = g[:, :n1] @ LX.T
    x1, x2 = xbar + g[:, n1:2 * n1] @ LXp.T, xbar + g[:, 2 * n1:] @ LXp.T
    return (np.concatenate([x1, x2]).astype(dtype), np.concatenate([x2, x1]).astype(dtype))


class ViewFactors(NamedTuple):
    r"""Square-root factors of the data moments: `LX` $L_X L_X^T = X$ (Cholesky) and `LXp`
    $L' L'^T = X'$ (symmetric PSD square root from `eigh`, so a singular X', even X' = 0, is fine)."""

    LX: Float[Array, "n1 n1"]
    LXp: Float[Array, "n1 n1"]


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
        LX = psd_sqrt(X)
    return ViewFactors(np.asarray(LX, dtype), np.asarray(psd_sqrt(Xp), dtype))


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
