"""Input statistics X and X' from a `Config` (THEORY.md §1)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._config import Config

__all__ = ["DataStatistics", "data_statistics"]


class DataStatistics(NamedTuple):
    """Second moments of the two views (THEORY.md §1).

    - `X`: E[x1 x2^T], the correlation of augmentation-averaged data (symmetric positive definite).
    - `Xprime`: E_x[Cov_aug[x'|x]], the augmentation covariance (positive semi-definite).
    - `basis`: orthonormal columns shared by X and X' (eigenvectors), or None for given matrices
      that need not commute.
    - `x_eigs`, `xs_eigs`: per-column eigenvalues of X (lambda_d) and X + X' (lambda_s) in `basis`
      (T13b), or None.
    """

    X: np.ndarray
    Xprime: np.ndarray
    basis: np.ndarray | None
    x_eigs: np.ndarray | None
    xs_eigs: np.ndarray | None


def random_orthogonal(n: int, seed: int) -> np.ndarray:
    """A Haar-random n x n orthogonal matrix (QR of a Gaussian matrix with the sign fix)."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def data_statistics(config: Config) -> DataStatistics:
    """X and X' as float64 numpy arrays, built from `config.data` (isotropic / spectrum / matrices)."""
    n1 = config.n1
    if config.data == "isotropic":
        basis = np.eye(n1)
        x_eigs = np.ones(n1)
        xp_eigs = np.full(n1, config.sigma2)
    elif config.data == "spectrum":
        basis = np.eye(n1) if config.basis == "identity" else random_orthogonal(n1, config.data_seed)
        x_eigs = np.asarray(config.x_eigs, dtype=float)
        xp_eigs = (np.full(n1, config.sigma2) if config.xprime_eigs is None
                   else np.asarray(config.xprime_eigs, dtype=float))
    else:
        X = np.asarray(config.X, dtype=float)
        Xp = np.asarray(config.Xprime, dtype=float)
        X, Xp = 0.5 * (X + X.T), 0.5 * (Xp + Xp.T)
        return DataStatistics(X, Xp, None, None, None)
    X = (basis * x_eigs) @ basis.T
    Xp = (basis * xp_eigs) @ basis.T
    return DataStatistics(0.5 * (X + X.T), 0.5 * (Xp + Xp.T), basis, x_eigs, x_eigs + xp_eigs)
