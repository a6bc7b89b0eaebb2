"""Quantities computed from saved states: spectra, per-mode tau, loss, balance residual, and the
shape diagnostics of THEORY.md §4 and §7-§8 (commutator, effective rank, participation ratio,
distance of the predictor from a projector) (numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["full_diagnostics", "mode_diagnostics", "effective_rank", "participation_ratio",
           "projector_distance", "commutator_norm"]


def effective_rank(eigs: np.ndarray) -> np.ndarray:
    r"""$\exp(-\sum_j q_j \log q_j)$ with $q_j = \lambda_j / \sum_k \lambda_k$ over the last axis
    (negative round-off eigenvalues clipped to 0, $0 \log 0 = 0$): from 1 (rank one) to the
    number of modes (isotropic). NaN for an all-zero spectrum."""
    lam = np.clip(np.asarray(eigs, dtype=float), 0.0, None)
    total = lam.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = lam / total
        h = -np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0), axis=-1)
    return np.where(total[..., 0] > 0, np.exp(h), np.nan)


def participation_ratio(eigs: np.ndarray) -> np.ndarray:
    r"""$(\sum_j \lambda_j)^2 / \sum_j \lambda_j^2$ over the last axis (eigenvalues clipped to 0):
    1 for rank one, the number of modes for an isotropic spectrum. NaN for an all-zero spectrum."""
    lam = np.clip(np.asarray(eigs, dtype=float), 0.0, None)
    sq = np.sum(lam**2, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sq > 0, np.sum(lam, axis=-1) ** 2 / np.where(sq > 0, sq, 1.0), np.nan)


def projector_distance(eig_Wp: np.ndarray) -> np.ndarray:
    r"""$\mathrm{mean}_j \min(|\hat p_j|, |1 - \hat p_j|)$ with $\hat p = \mathrm{eig}(W_p) /
    \max \mathrm{eig}(W_p)$ over the last axis: 0 when the normalized predictor is an orthogonal
    projector (eigenvalues in {0, 1}, THEORY.md §8), at most 1/2 for eigenvalues in [0, 1]. The
    absolute value of $\hat p_j$ only matters for negative eigenvalues (then it is their distance
    from 0). NaN when the largest eigenvalue is <= 0."""
    e = np.asarray(eig_Wp, dtype=float)
    top = np.max(e, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ph = e / np.where(top > 0, top, 1.0)
    d = np.mean(np.minimum(np.abs(ph), np.abs(1.0 - ph)), axis=-1)
    return np.where(top[..., 0] > 0, d, np.nan)


def commutator_norm(F: np.ndarray, Wp: np.ndarray) -> np.ndarray:
    r"""$\|[F, W_p]\|_F = \|F W_p - W_p F\|_F$ over the last two axes (THEORY.md §4, Thm 3)."""
    return np.linalg.norm(F @ Wp - Wp @ F, axis=(-2, -1))


def full_diagnostics(W: np.ndarray, Wp: np.ndarray, Wa: np.ndarray, X: np.ndarray, XS: np.ndarray,
                     ts: np.ndarray, alpha_p: float, eta: float) -> dict[str, np.ndarray]:
    r"""Per saved time (leading axis) for the full model.

    - `eig_F`: eigenvalues of F = W X W^T, descending (mode = rank).
    - `eig_Wp`: eigenvalues of (Wp + Wp^T)/2, descending.
    - `p`: u_j^T Wp u_j, the predictor in F's eigenbasis (equals eig_Wp when aligned, Thm 3).
    - `tau`: tau_j = u_j^T Wa X W^T u_j / s_j (T13's per-mode ratio); NaN where s_j <= 1e-8 max s
      (a collapsed mode, whose eigenvector is numerically undetermined).
    - `loss`: (T1) in expectation.
    - `balance_residual`: ||W W^T - Wp^T Wp / alpha_p - e^{-2 eta t} C||_F / ||W(0) W(0)^T||_F (T6).
    - `commutator`: ||[F, Wp]||_F (Thm 3), with the Wp given (the predictor in use).
    - `effective_rank`, `participation_ratio` of F's eigenvalues; `projector_distance` of eig_Wp.
    """
    F = W @ X @ np.swapaxes(W, -1, -2)
    F = 0.5 * (F + np.swapaxes(F, -1, -2))
    s, U = np.linalg.eigh(F)
    s, U = s[..., ::-1], U[..., ::-1]
    sym = 0.5 * (Wp + np.swapaxes(Wp, -1, -2))
    eig_Wp = np.linalg.eigvalsh(sym)[..., ::-1]
    p = np.einsum("...ij,...ik,...kj->...j", U, Wp, U)
    cross = Wa @ X @ np.swapaxes(W, -1, -2)
    num = np.einsum("...ij,...ik,...kj->...j", U, cross, U)
    smax = np.max(np.abs(s), axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(s > 1e-8 * smax, num / s, np.nan)
    P = Wp @ W
    loss = (0.5 * np.einsum("...ij,jk,...ik->...", P, XS, P) - np.einsum("...ij,jk,...ik->...", P, X, Wa)
            + 0.5 * np.einsum("...ij,jk,...ik->...", Wa, XS, Wa))
    G = W @ np.swapaxes(W, -1, -2) - np.swapaxes(Wp, -1, -2) @ Wp / alpha_p
    C = G[0]
    decay = np.exp(-2.0 * eta * ts)[:, None, None]
    ref = np.linalg.norm(W[0] @ W[0].T)
    balance = np.linalg.norm(G - decay * C, axis=(-2, -1)) / ref
    return {"eig_F": s, "eig_Wp": eig_Wp, "p": p, "tau": tau, "loss": loss, "balance_residual": balance,
            "commutator": commutator_norm(F, Wp), "effective_rank": effective_rank(s),
            "participation_ratio": participation_ratio(s), "projector_distance": projector_distance(eig_Wp)}


def mode_diagnostics(p: np.ndarray, s: np.ndarray, tau: np.ndarray, lam_d: np.ndarray, lam_s: np.ndarray,
                     ts: np.ndarray, alpha_p: float, eta: float) -> dict[str, np.ndarray]:
    r"""Per saved time for the eigenmode model (mode = index of the given mode, not a rank).

    `eig_F` = lambda_d s_j (eigenvalue of F = W X W^T), `eig_Wp` = p_j, `tau` = tau_j, `loss` = (T1)
    summed over modes, `balance_residual` = ||s - p^2/alpha_p - e^{-2 eta t} c||_2 / ||s(0)||_2
    (T14, the per-mode form of T6); `commutator` = 0 (the modes share one eigenbasis by
    construction), `effective_rank` and `participation_ratio` of eig_F, `projector_distance` of p.
    """
    loss = 0.5 * np.sum(s * (p**2 * lam_s - 2.0 * p * tau * lam_d + tau**2 * lam_s), axis=-1)
    g = s - p**2 / alpha_p
    c = g[0]
    ref = np.linalg.norm(s[0])
    balance = np.linalg.norm(g - np.exp(-2.0 * eta * ts)[:, None] * c, axis=-1) / (ref if ref > 0 else 1.0)
    eig_F = lam_d * s
    return {"eig_F": eig_F, "eig_Wp": p, "tau": tau, "loss": loss, "balance_residual": balance,
            "commutator": np.where(np.all(np.isfinite(p), axis=-1) & np.all(np.isfinite(s), axis=-1), 0.0, np.nan),
            "effective_rank": effective_rank(eig_F), "participation_ratio": participation_ratio(eig_F),
            "projector_distance": projector_distance(p)}
