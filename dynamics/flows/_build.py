"""Build the initial state and the flow arguments that a `Config` describes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..config import CLOSED_FORM_PREDICTORS, Config, data_statistics
from ._predictors import closed_form_predictor, expected_statistics, mode_closed_form_predictor
from ._samples import psd_sqrt, view_pair_sample
from ._state import BYOLState, FlowArgs, GradientPath, ModeArgs, ModeState

__all__ = ["gradient_path", "flow_args", "mode_args", "initial_state", "initial_modes"]


def gradient_path(config: Config) -> GradientPath:
    """The static choices of `config`: target, stop-gradient, predictor, loss, expectation and the
    epsilon convention of the closed-form power predictors."""
    return GradientPath(config.target, config.stop_gradient, config.predictor, config.loss, config.expectation,
                        config.predictor_eps_convention)


def _rates(config: Config, dtype) -> dict:
    return {name: np.asarray(value, dtype=dtype) for name, value in (
        ("alpha_p", config.alpha_p), ("beta", config.beta), ("eta", config.eta),
        ("eta_p", config.eta_p_effective))}


def _predictor_params(config: Config, dtype) -> dict:
    """`predictor_alpha`, `predictor_eps` as arrays where the predictor reads them, else None."""
    alpha, eps = config.predictor_alpha_effective, config.predictor_eps_effective
    return {"predictor_alpha": None if alpha is None else np.asarray(alpha, dtype),
            "predictor_eps": None if eps is None else np.asarray(eps, dtype)}


def flow_args(config: Config, dtype=np.float64) -> FlowArgs:
    """`FlowArgs` for `byol_flow`: X, X + X' from `config.data`, the rates (numpy arrays), the
    closed-form predictor's power and epsilon, and for `expectation="sampled"` the view-pair sample
    (`view_pair_sample(X, X', n_samples, sample_seed)`, both orders)."""
    stats = data_statistics(config)
    samples = {}
    if config.expectation == "sampled":
        x1, x2 = view_pair_sample(stats.X, stats.Xprime, config.n_samples, config.sample_seed, dtype)
        samples = {"x1": x1, "x2": x2}
    return FlowArgs(X=np.asarray(stats.X, dtype), XS=np.asarray(stats.X + stats.Xprime, dtype),
                    path=gradient_path(config), **_rates(config, dtype), **_predictor_params(config, dtype),
                    **samples)


def mode_args(config: Config, dtype=np.float64) -> ModeArgs:
    """`ModeArgs` for `mode_flow`: the first n2 eigenvalues (lambda_d of X, lambda_s of X + X') of
    the data basis (T13b); under A2 they are 1 and 1 + sigma^2."""
    stats = data_statistics(config)
    m = config.n2
    return ModeArgs(lam_d=np.asarray(stats.x_eigs[:m], dtype), lam_s=np.asarray(stats.xs_eigs[:m], dtype),
                    path=gradient_path(config), **_rates(config, dtype), **_predictor_params(config, dtype))


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
            Wp = np.sqrt(config.alpha_p) * psd_sqrt(W @ W.T)
        Wa = None
    if config.predictor == "identity":
        Wp = np.eye(n2)
    elif config.predictor == "symmetric":
        Wp = 0.5 * (Wp + Wp.T)
    if config.target == "online":
        Wa = W
    elif Wa is None:
        Wa = config.tau0 * W
    if config.predictor in CLOSED_FORM_PREDICTORS:
        Wp = _initial_closed_form(config, W, Wa, dtype)
    return BYOLState(*(np.asarray(a, dtype) for a in (W, Wp, Wa)))


def _initial_closed_form(config: Config, W: np.ndarray, Wa: np.ndarray, dtype) -> np.ndarray:
    """The closed-form predictor at t = 0 from the expected statistics (a record: the flow
    recomputes it at every evaluation, from the sample when `expectation="sampled"`)."""
    stats = data_statistics(config)
    with jax.enable_x64(np.dtype(dtype) == np.float64):
        st = expected_statistics(*(jnp.asarray(a, dtype) for a in (W, Wa, stats.X, stats.X + stats.Xprime)))
        Wp = closed_form_predictor(config.predictor, st, jnp.asarray(config.predictor_alpha_effective or 0.0, dtype),
                                   jnp.asarray(config.predictor_eps_effective, dtype),
                                   config.predictor_eps_convention)
        return np.asarray(Wp, dtype=np.float64)


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
    if config.predictor in CLOSED_FORM_PREDICTORS:
        stats = data_statistics(config)
        lam_d, lam_s = stats.x_eigs[:m], stats.xs_eigs[:m]
        with jax.enable_x64(np.dtype(dtype) == np.float64):
            p = np.asarray(mode_closed_form_predictor(
                config.predictor, *(jnp.asarray(v, dtype) for v in (lam_d * s, lam_s * s, lam_d * tau * s)),
                jnp.asarray(config.predictor_alpha_effective or 0.0, dtype),
                jnp.asarray(config.predictor_eps_effective, dtype), config.predictor_eps_convention), dtype=float)
    return ModeState(*(np.asarray(a, dtype) for a in (p, s, tau)))
