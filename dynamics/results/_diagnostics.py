"""Quantities computed from saved states: spectra, per-mode tau, loss, balance residual (numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["full_diagnostics", "mode_diagnostics"]


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
    return {"eig_F": s, "eig_Wp": eig_Wp, "p": p, "tau": tau, "loss": loss, "balance_residual": balance}


def mode_diagnostics(p: np.ndarray, s: np.ndarray, tau: np.ndarray, lam_d: np.ndarray, lam_s: np.ndarray,
                     ts: np.ndarray, alpha_p: float, eta: float) -> dict[str, np.ndarray]:
    r"""Per saved time for the eigenmode model (mode = index of the given mode, not a rank).

    `eig_F` = lambda_d s_j (eigenvalue of F = W X W^T), `eig_Wp` = p_j, `tau` = tau_j, `loss` = (T1)
    summed over modes, `balance_residual` = ||s - p^2/alpha_p - e^{-2 eta t} c||_2 / ||s(0)||_2
    (T14, the per-mode form of T6).
    """
    loss = 0.5 * np.sum(s * (p**2 * lam_s - 2.0 * p * tau * lam_d + tau**2 * lam_s), axis=-1)
    g = s - p**2 / alpha_p
    c = g[0]
    ref = np.linalg.norm(s[0])
    balance = np.linalg.norm(g - np.exp(-2.0 * eta * ts)[:, None] * c, axis=-1) / (ref if ref > 0 else 1.0)
    return {"eig_F": lam_d * s, "eig_Wp": p, "tau": tau, "loss": loss, "balance_residual": balance}
