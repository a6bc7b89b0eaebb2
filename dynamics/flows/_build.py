"""Build the initial state and the flow arguments that a `Config` describes."""

from __future__ import annotations

import numpy as np

from ..config import Config, data_statistics
from ._state import BYOLState, FlowArgs, GradientPath, ModeArgs, ModeState

__all__ = ["gradient_path", "flow_args", "mode_args", "initial_state", "initial_modes"]


def gradient_path(config: Config) -> GradientPath:
    """The static target / stop-gradient / predictor choice of `config`."""
    return GradientPath(config.target, config.stop_gradient, config.predictor)


def _rates(config: Config, dtype) -> dict:
    return {name: np.asarray(value, dtype=dtype) for name, value in (
        ("alpha_p", config.alpha_p), ("beta", config.beta), ("eta", config.eta),
        ("eta_p", config.eta_p_effective))}


def flow_args(config: Config, dtype=np.float64) -> FlowArgs:
    """`FlowArgs` for `byol_flow`: X, X + X' from `config.data`, and the rates (numpy arrays)."""
    stats = data_statistics(config)
    return FlowArgs(X=np.asarray(stats.X, dtype), XS=np.asarray(stats.X + stats.Xprime, dtype),
                    path=gradient_path(config), **_rates(config, dtype))


def mode_args(config: Config, dtype=np.float64) -> ModeArgs:
    """`ModeArgs` for `mode_flow`: the first n2 eigenvalues (lambda_d of X, lambda_s of X + X') of
    the data basis (T13b); under A2 they are 1 and 1 + sigma^2."""
    stats = data_statistics(config)
    m = config.n2
    return ModeArgs(lam_d=np.asarray(stats.x_eigs[:m], dtype), lam_s=np.asarray(stats.xs_eigs[:m], dtype),
                    path=gradient_path(config), **_rates(config, dtype))


def _sqrtm_psd(A: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(0.5 * (A + A.T))
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def initial_state(config: Config, dtype=np.float64) -> BYOLState:
    """W(0), Wp(0), Wa(0) for the full model (see `Config` for the rules)."""
    n1, n2 = config.n1, config.n2
    if config.init == "given":
        W = np.asarray(config.W0, dtype=float)
        Wp = np.asarray(config.Wp0, dtype=float)
        Wa = None if config.Wa0 is None else np.asarray(config.Wa0, dtype=float)
    else:
        rng = np.random.default_rng(config.seed)
        W = rng.standard_normal((n2, n1)) * config.init_scale / np.sqrt(n1)
        scale_p = config.init_scale if config.init_scale_p is None else config.init_scale_p
        Wp = rng.standard_normal((n2, n2)) * scale_p / np.sqrt(n2)
        if config.init == "balanced":
            Wp = np.sqrt(config.alpha_p) * _sqrtm_psd(W @ W.T)
        Wa = None
    if config.predictor == "identity":
        Wp = np.eye(n2)
    elif config.predictor == "symmetric":
        Wp = 0.5 * (Wp + Wp.T)
    if config.target == "online":
        Wa = W
    elif Wa is None:
        Wa = config.tau0 * W
    return BYOLState(*(np.asarray(a, dtype) for a in (W, Wp, Wa)))


def initial_modes(config: Config, dtype=np.float64) -> ModeState:
    """(p_j(0), s_j(0), tau_j(0)) for the eigenmode model (see `Config` for the defaults)."""
    m = config.n2
    spread = np.geomspace(1e-2, 1.0, m)
    s = config.init_scale**2 * spread if config.s0 is None else np.asarray(config.s0, dtype=float)
    if config.p0 is not None:
        p = np.asarray(config.p0, dtype=float)
    elif config.init == "balanced":
        p = np.sqrt(config.alpha_p * s)
    else:
        scale_p = config.init_scale if config.init_scale_p is None else config.init_scale_p
        p = scale_p * spread
    if config.predictor == "identity":
        p = np.ones(m)
    tau = np.full(m, config.tau0) if config.tau0_modes is None else np.asarray(config.tau0_modes, dtype=float)
    if config.target == "online":
        tau = np.ones(m)
    return ModeState(*(np.asarray(a, dtype) for a in (p, s, tau)))
