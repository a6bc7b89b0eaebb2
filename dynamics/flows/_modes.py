"""Decoupled eigenmode dynamics, THEORY.md (T11)-(T13) and (T13b) [TCG21 Eqs. 11-17]."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

from ._state import ModeArgs, ModeState

__all__ = ["mode_flow", "mode_loss"]


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
