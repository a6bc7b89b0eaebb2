"""Decoupled eigenmode dynamics, THEORY.md (T11)-(T13) and (T13b) [TCG21 Eqs. 11-17], with the closed-form
predictors (T20)-(T21), IsoLoss (T23) and the cosine mean field (T25) of §6-§8."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._predictors import mode_closed_form_predictor
from ._state import ModeArgs, ModeState, ModeWeights

__all__ = ["mode_flow", "mode_weight_flow", "mode_loss", "weights_to_modes", "modes_to_weights",
           "mode_predictor_in_use", "mode_predictor_record"]


def _mode_predictor(p: Array, f: Array, c: Array, cto: Array, args: ModeArgs) -> Array:
    path = args.path
    if path.predictor == "identity":
        return jnp.ones_like(p)
    if not path.predictor_is_closed_form:
        return p
    return mode_closed_form_predictor(path.predictor, f, c, cto, args.predictor_alpha, args.predictor_eps,
                                      path.eps_convention)


def mode_predictor_in_use(p: Array, w: Array, wa: Array, args: ModeArgs) -> Float[Array, "... m"]:
    r"""The predictor eigenvalue applied on each mode: the state's p (trained / symmetric), 1
    (identity), or the closed form of $f_j = \lambda_d w_j^2$, $c_j = \lambda_s w_j^2$,
    $c_{to,j} = \lambda_d w_{a,j} w_j$ (`mode_closed_form_predictor`; normalizations over the modes
    on the last axis). `wa` is the target in use (w itself for SimSiam)."""
    return _mode_predictor(p, args.lam_d * w**2, args.lam_s * w**2, args.lam_d * wa * w, args)


def _check_mode_expectation(args: ModeArgs) -> None:
    if args.path.expectation == "sampled":
        raise ValueError("expectation = 'sampled' needs the full model (the view pairs live in input space)")


def mode_flow(t: Float[Array, ""], y: ModeState, args: ModeArgs) -> ModeState:
    r"""d(p_j, s_j, tau_j)/dt for every mode, THEORY.md (T11)-(T13), generalized as in (T13b), with
    the losses and closed-form predictors of §6-§8.

    With $\lambda_d$, $\lambda_s$ the mode's eigenvalues of X and X + X' (under A2: 1, 1 + sigma^2),
    the relative growth of the online weight, $g = \dot w / w$, is

    $g = p(\tau\lambda_d - p\lambda_s)$ [online branch; IsoLoss (T23): $\tau\lambda_d - p\lambda_s$]
    $+ (p\lambda_d - \tau\lambda_s)$ [target branch, without stop-gradient] $- \eta$,

    and $\dot s = 2 s g$ (T12), $\dot p = \alpha_p s (\tau\lambda_d - p\lambda_s) - \eta_p p$ (T11; the
    gradient term only when the online branch carries gradient; p = 1 fixed for the identity
    predictor), $\dot\tau = \beta (1 - \tau) - \tau g$ (T13; $\tau \equiv 1$ for SimSiam). Each line is
    the scalar case of `byol_flow` with $s = w^2$, $\tau = w_a / w$.

    A closed-form predictor sets $p_j$ from $(s_j, \tau_j)$ at every evaluation
    (`mode_predictor_in_use`; $\dot p = 0$, the state's p is a record). `expectation="mean_field"`
    (cosine losses): with $P^2 = \sum p^2 \lambda_s s$, $Z^2 = \sum \lambda_s \tau^2 s$,
    $Q = \sum p \lambda_d \tau s$ and $G = \tau\lambda_d/(PZ) - Q p \lambda_s/(P^3 Z)$, the online
    branch gives $g = pG$ (IsoLoss: $G$) and $\dot p = \alpha_p s G$, the target branch
    $p\lambda_d/(PZ) - Q\lambda_s\tau/(PZ^3)$: the eigenmode form of `mean_field_descent` ((T25) under
    A2 with the power predictor). Modes are coupled through the sums and the normalizations, so
    all modes of a run must sit on the last axis of one state.
    """
    path = args.path
    _check_mode_expectation(args)
    s, tau = y.s, y.tau
    p = _mode_predictor(y.p, args.lam_d * s, args.lam_s * s, args.lam_d * tau * s, args)
    g = -args.eta * jnp.ones_like(s)
    grad_p = jnp.zeros_like(p)
    if path.expectation == "mean_field":
        P = jnp.sqrt(jnp.sum(p**2 * args.lam_s * s, axis=-1, keepdims=True))
        Z = jnp.sqrt(jnp.sum(args.lam_s * tau**2 * s, axis=-1, keepdims=True))
        Q = jnp.sum(p * args.lam_d * tau * s, axis=-1, keepdims=True)
        gap = tau * args.lam_d / (P * Z) - Q * p * args.lam_s / (P**3 * Z)
        target_term = p * args.lam_d / (P * Z) - Q * args.lam_s * tau / (P * Z**3)
    else:
        gap = tau * args.lam_d - p * args.lam_s
        target_term = p * args.lam_d - tau * args.lam_s
    if path.online_branch_has_gradient:
        g = g + (gap if path.isoloss else p * gap)
        grad_p = s * gap
    if path.target_branch_has_gradient:
        g = g + target_term
    dp = args.alpha_p * grad_p - args.eta_p * y.p if path.predictor_is_trained else jnp.zeros_like(y.p)
    ds = 2.0 * s * g
    dtau = jnp.zeros_like(tau) if path.target == "online" else args.beta * (1.0 - tau) - tau * g
    return ModeState(dp, ds, dtau)


def mode_loss(y: ModeState, args: ModeArgs) -> Float[Array, ""]:
    r"""(T1) summed over modes: $\sum_j \tfrac12 s_j (p_j^2 \lambda_s - 2 p_j \tau_j \lambda_d
    + \tau_j^2 \lambda_s)$ (the scalar case of `expected_loss`)."""
    p, s, tau = y.p, y.s, y.tau
    return 0.5 * jnp.sum(s * (p**2 * args.lam_s - 2.0 * p * tau * args.lam_d + tau**2 * args.lam_s))


def mode_weight_flow(t: Float[Array, ""], y: ModeWeights, args: ModeArgs) -> ModeWeights:
    r"""d(w_p, w, w_a)/dt for every mode, THEORY.md (T13b): the scalar case of (T2)-(T4), with the
    losses and closed-form predictors of §6-§8 as in `mode_flow`.

    With $R = w_a\lambda_d - w_p w \lambda_s$: $\dot w_p = \alpha_p R w - \eta_p w_p$,
    $\dot w = w_p R - \eta w$ (online branch; IsoLoss: $R$), plus $w_p w \lambda_d - w_a \lambda_s$
    when the target branch carries gradient, and $\dot w_a = \beta (w - w_a)$ (SimSiam:
    $w_a \equiv w$). Mean field (cosine losses): $R$ becomes
    $w_a\lambda_d/(PZ) - Q w_p w\lambda_s/(P^3 Z)$ and the target term
    $w_p w\lambda_d/(PZ) - Q w_a\lambda_s/(PZ^3)$, with $P^2 = \sum w_p^2\lambda_s w^2$,
    $Z^2 = \sum\lambda_s w_a^2$, $Q = \sum w_p\lambda_d w w_a$. A closed-form predictor replaces
    $w_p$ by `mode_predictor_in_use` and keeps the state's $w_p$ fixed (a record).

    The same system as `mode_flow` under $s = w^2$, $\tau = w_a / w$, but without the coordinate
    singularity of $\tau$ at $w \to 0$: a collapsing mode stays bounded here, so `simulate` and
    `sweep` integrate this form and report (p, s, tau). Modes are coupled by the normalized closed
    forms and the mean field: keep all modes of a run on the last axis of one state.
    """
    path = args.path
    _check_mode_expectation(args)
    w = y.w
    wa = w if path.target == "online" else y.wa
    p = mode_predictor_in_use(y.p, w, wa, args)
    dw = -args.eta * w
    grad_p = jnp.zeros_like(p)
    if path.expectation == "mean_field":
        P = jnp.sqrt(jnp.sum(p**2 * args.lam_s * w**2, axis=-1, keepdims=True))
        Z = jnp.sqrt(jnp.sum(args.lam_s * wa**2, axis=-1, keepdims=True))
        Q = jnp.sum(p * args.lam_d * w * wa, axis=-1, keepdims=True)
        R = wa * args.lam_d / (P * Z) - Q * p * w * args.lam_s / (P**3 * Z)
        target_term = p * w * args.lam_d / (P * Z) - Q * wa * args.lam_s / (P * Z**3)
    else:
        R = wa * args.lam_d - p * w * args.lam_s
        target_term = p * w * args.lam_d - wa * args.lam_s
    if path.online_branch_has_gradient:
        dw = dw + (R if path.isoloss else p * R)
        grad_p = R * w
    if path.target_branch_has_gradient:
        dw = dw + target_term
    dp = args.alpha_p * grad_p - args.eta_p * y.p if path.predictor_is_trained else jnp.zeros_like(y.p)
    dwa = dw if path.target == "online" else args.beta * (w - y.wa)
    return ModeWeights(dp, dw, dwa)


def mode_predictor_record(y: ModeWeights, args: ModeArgs) -> Float[Array, "... m"]:
    """The predictor eigenvalues actually applied at saved states (`mode_predictor_in_use`; leading
    axes are batch axes, e.g. time): the state's p for trained / symmetric predictors."""
    wa = y.w if args.path.target == "online" else y.wa
    return mode_predictor_in_use(y.p, y.w, wa, args)


def modes_to_weights(y: ModeState) -> ModeWeights:
    """(p, s, tau) -> (p, w, w_a) with w = sqrt(s) >= 0, w_a = tau w."""
    w = jnp.sqrt(y.s)
    return ModeWeights(y.p, w, y.tau * w)


def weights_to_modes(y: ModeWeights) -> ModeState:
    """(p, w, w_a) -> (p, s, tau) with s = w^2, tau = w_a / w (NaN where w = 0). numpy arrays (saved
    trajectories on the host) give numpy arrays in their own dtype; jax arrays give jax arrays."""
    if all(isinstance(a, np.ndarray) for a in (y.p, y.w, y.wa)):
        with np.errstate(divide="ignore", invalid="ignore"):
            return ModeState(y.p, y.w**2, np.where(y.w != 0, y.wa / y.w, np.nan))
    safe = jnp.where(y.w == 0, jnp.nan, y.w)
    return ModeState(y.p, y.w**2, y.wa / safe)
