"""Decoupled eigenmode dynamics, THEORY.md (T11)-(T13) and (T13b) [TCG21 Eqs. 11-17]."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

from ._state import ModeArgs, ModeState, ModeWeights

__all__ = ["mode_flow", "mode_weight_flow", "mode_loss", "weights_to_modes", "modes_to_weights"]


def mode_flow(t: Float[Array, ""], y: ModeState, args: ModeArgs) -> ModeState:
    r"""d(p_j, s_j, tau_j)/dt for every mode, THEORY.md (T11)-(T13), generalized as in (T13b).

    With $\lambda_d$, $\lambda_s$ the mode's eigenvalues of X and X + X' (under A2: 1, 1 + sigma^2),
    the relative growth of the online weight, $g = \dot w / w$, is

    $g = p(\tau\lambda_d - p\lambda_s)$ [online branch] $+ (p\lambda_d - \tau\lambda_s)$ [target
    branch, without stop-gradient] $- \eta$,

    and $\dot s = 2 s g$ (T12), $\dot p = \alpha_p s (\tau\lambda_d - p\lambda_s) - \eta_p p$ (T11; the
    gradient term only when the online branch carries gradient; p = 1 fixed for the identity
    predictor), $\dot\tau = \beta (1 - \tau) - \tau g$ (T13; $\tau \equiv 1$ for SimSiam). Each line is
    the scalar case of `byol_flow` with $s = w^2$, $\tau = w_a / w$.
    """
    path = args.path
    p, s, tau = y.p, y.s, y.tau
    gap = tau * args.lam_d - p * args.lam_s
    g = -args.eta * jnp.ones_like(s)
    dp = -args.eta_p * p
    if path.online_branch_has_gradient:
        g = g + p * gap
        dp = dp + args.alpha_p * s * gap
    if path.target_branch_has_gradient:
        g = g + p * args.lam_d - tau * args.lam_s
    if path.predictor == "identity":
        dp = jnp.zeros_like(p)
    ds = 2.0 * s * g
    dtau = jnp.zeros_like(tau) if path.target == "online" else args.beta * (1.0 - tau) - tau * g
    return ModeState(dp, ds, dtau)


def mode_loss(y: ModeState, args: ModeArgs) -> Float[Array, ""]:
    r"""(T1) summed over modes: $\sum_j \tfrac12 s_j (p_j^2 \lambda_s - 2 p_j \tau_j \lambda_d
    + \tau_j^2 \lambda_s)$ (the scalar case of `expected_loss`)."""
    p, s, tau = y.p, y.s, y.tau
    return 0.5 * jnp.sum(s * (p**2 * args.lam_s - 2.0 * p * tau * args.lam_d + tau**2 * args.lam_s))


def mode_weight_flow(t: Float[Array, ""], y: ModeWeights, args: ModeArgs) -> ModeWeights:
    r"""d(w_p, w, w_a)/dt for every mode, THEORY.md (T13b): the scalar case of (T2)-(T4).

    With $R = w_a\lambda_d - w_p w \lambda_s$: $\dot w_p = \alpha_p R w - \eta_p w_p$,
    $\dot w = w_p R - \eta w$ (online branch), plus $w_p w \lambda_d - w_a \lambda_s$ when the target
    branch carries gradient, and $\dot w_a = \beta (w - w_a)$ (SimSiam: $w_a \equiv w$). The same
    system as `mode_flow` under $s = w^2$, $\tau = w_a / w$, but without the coordinate singularity
    of $\tau$ at $w \to 0$: a collapsing mode stays bounded here, so `simulate` and `sweep`
    integrate this form and report (p, s, tau).
    """
    path = args.path
    p, w = y.p, y.w
    wa = w if path.target == "online" else y.wa
    dw = -args.eta * w
    dp = -args.eta_p * p
    if path.online_branch_has_gradient:
        R = wa * args.lam_d - p * w * args.lam_s
        dw = dw + p * R
        dp = dp + args.alpha_p * R * w
    if path.target_branch_has_gradient:
        dw = dw + p * w * args.lam_d - wa * args.lam_s
    if path.predictor == "identity":
        dp = jnp.zeros_like(p)
    dwa = dw if path.target == "online" else args.beta * (w - y.wa)
    return ModeWeights(dp, dw, dwa)


def modes_to_weights(y: ModeState) -> ModeWeights:
    """(p, s, tau) -> (p, w, w_a) with w = sqrt(s) >= 0, w_a = tau w."""
    w = jnp.sqrt(y.s)
    return ModeWeights(y.p, w, y.tau * w)


def weights_to_modes(y: ModeWeights) -> ModeState:
    """(p, w, w_a) -> (p, s, tau) with s = w^2, tau = w_a / w (NaN where w = 0)."""
    safe = jnp.where(y.w == 0, jnp.nan, y.w)
    return ModeState(y.p, y.w**2, y.wa / safe)
