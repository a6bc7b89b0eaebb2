r"""Eigenmode reduction of the derived flow, THEORY.md (T11)-(T16) and (T13b) [TCG21 Eqs. 11-17].

Nothing here is typed from THEORY.md: every system is obtained by substitution into the flow that
`derive_flow` derived from (T1).

1. **Scalar flow (T13b).** With n1 = n2 = 1, $W = w$, $W_p = w_p$, $W_a = w_a$, $X = \lambda_d$,
   $X + X' = \lambda_s$, the derived (T2)-(T4) is the flow of one decoupled mode (`scalar_flow`).
   `decoupling_residual` shows that diagonal weights (A1-A3 in the eigenbasis, one $\tau_j$ per mode)
   stay diagonal and each diagonal entry follows the scalar flow.
2. **Mode variables (T11)-(T13).** The change of variables $s = w^2$, $\tau = w_a / w$, $p = w_p$:
   $\dot s = 2 w \dot w$, $\dot\tau = \dot w_a / w - w_a \dot w / w^2$ (`mode_system`). For SimSiam
   ($W_a \equiv W$) the same derivation holds with $W_a = \tau W$ at a frozen $\tau$ ($\dot\tau = 0$,
   SimSiam is $\tau = 1$), which is also the (p, s) plane at fixed $\tau$ (`plane_system`).
3. **Parabola (T16).** With $\eta_p = \eta$, $s = p^2/\alpha_p$ is invariant (checked, T14) and
   substituting it into $\dot p$ gives the 1-D system (`parabola_system`).
4. **Closed-form predictors (T21)-(T23), §7 weight decay.** $W_p = (W W^T)^\alpha$, i.e.
   $w_p = \lambda^\alpha$ with $\lambda = w^2$, in the derived online gradient (Euclidean loss) or in
   the derived IsoLoss gradient, weight decay $r$, $W_a = \tau W$; $\dot\lambda = 2 w \dot w$
   (`closed_form_system`).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import sympy as sp

from ._derive import derive_flow
from ._symbols import (Path, alpha, alpha_p, as_path, beta, eta, eta_p, lam, lam_d, lam_s, p, r, s,
                       sigma2, tau, w, w_a, w_p)
from ._system import ModeSystem

__all__ = ["scalar_flow", "mode_system", "plane_system", "parabola_system", "closed_form_system",
           "decoupling_residual", "SYSTEMS", "named_system"]

_GENERAL = (lam_d, lam_s, alpha_p, beta, eta, eta_p)


def _scalar_substitution(flow, tau_frozen: bool) -> dict:
    subs = {flow.W[0, 0]: w, flow.Wp[0, 0]: w_p, flow.X[0, 0]: lam_d, flow.Xprime[0, 0]: lam_s - lam_d}
    if flow.path.target == "ema":
        subs[flow.Wa[0, 0]] = tau * w if tau_frozen else w_a
    return subs


@lru_cache(maxsize=None)
def _scalar_flow(path: Path) -> ModeSystem:
    flow = derive_flow(path, n1=1, n2=1)
    subs = _scalar_substitution(flow, tau_frozen=False)
    dwp, dw, dwa = (sp.factor_terms(sp.expand(M[0, 0].subs(subs))) for M in (flow.dWp, flow.dW, flow.dWa))
    if path.target == "online":
        state, rhs = (w_p, w), (dwp, dw)
    else:
        state, rhs = (w_p, w, w_a), (dwp, dw, dwa)
    return ModeSystem("weights", state, rhs, _GENERAL, path, "T13b",
                      "one eigenmode in its weights: (T2)-(T4) with n1 = n2 = 1, X = lam_d, X + X' = lam_s")


def scalar_flow(predictor: str = "trained", target="ema", stop_gradient: str = "target", *,
                loss: str = "euclidean") -> ModeSystem:
    r"""(T13b): the derived flow (T2)-(T4) for one mode, state $(w_p, w, w_a)$ ($(w_p, w)$ for SimSiam).

    **Returns:** a `ModeSystem` named "weights" with parameters `lam_d`, `lam_s`, `alpha_p`, `beta`,
    `eta`, `eta_p` (cached).
    """
    return _scalar_flow(as_path(predictor, target, stop_gradient, loss))


@lru_cache(maxsize=None)
def _mode_system(path: Path, isotropic: bool) -> ModeSystem:
    # Derive with W_a as its own symbols (the EMA derivation) and put W_a = tau W; for SimSiam tau is
    # frozen (tau = 1 is W_a = W exactly; the tests check this against the SimSiam derivation).
    flow = derive_flow(path._replace(target="ema"), n1=1, n2=1)
    subs = _scalar_substitution(flow, tau_frozen=False)
    dwp, dw, dwa = (M[0, 0].subs(subs) for M in (flow.dWp, flow.dW, flow.dWa))
    to_modes = {w: sp.sqrt(s), w_a: tau * sp.sqrt(s), w_p: p}
    s_pos = sp.Symbol("s", positive=True)  # s > 0 where the change of variables is defined
    dp = dwp.subs(to_modes)
    ds = (2 * w * dw).subs(to_modes)
    if path.target == "ema":
        dtau = (dwa / w - w_a * dw / w**2).subs(to_modes)
    else:
        dtau = sp.S.Zero
    rhs = tuple(sp.expand(sp.expand(f.subs(s, s_pos)).subs(s_pos, s)) for f in (dp, ds, dtau))
    params = _GENERAL
    name, theory = "modes", "T11-T13, T13b"
    description = ("one eigenmode in (p, s, tau): p = w_p, s = w^2, tau = w_a / w, per-mode eigenvalues "
                   "lam_d of X and lam_s of X + X'")
    if path.target == "online":
        description += "; SimSiam: W_a = tau W with tau frozen (tau = 1 is W_a = W)"
    if isotropic:
        rhs = tuple(sp.expand(f.subs({lam_d: 1, lam_s: 1 + sigma2})) for f in rhs)
        params = (sigma2, alpha_p, beta, eta, eta_p)
        description += "; A2: X = I, X' = sigma2 I"
    return ModeSystem(name, (p, s, tau), rhs, params, path, theory, description, (s >= 0,))


def mode_system(predictor: str = "trained", target="ema", stop_gradient: str = "target", *,
                loss: str = "euclidean", isotropic: bool = False) -> ModeSystem:
    r"""The per-mode ODEs (T11)-(T13) (general eigenvalues as in T13b) derived from (T1).

    **Arguments:**

    - `predictor`, `target`, `stop_gradient`, `loss`: the gradient path (`GradientPath` semantics;
      a `GradientPath` may be passed as `predictor`).
    - `isotropic`: substitute A2 ($\lambda_d = 1$, $\lambda_s = 1 + \sigma^2$).

    **Returns:** a `ModeSystem` with state `(p, s, tau)`, right-hand sides polynomial in the state;
    $\dot\tau = 0$ for SimSiam (tau frozen at its initial value, 1), $\dot p$ has only the weight
    decay for `stop_gradient="online"`; the identity predictor is p = 1 in every right-hand side
    with $\dot p = 0$ — the same conventions as `dynamics.flows.mode_flow` (cached).
    """
    return _mode_system(as_path(predictor, target, stop_gradient, loss), isotropic)


@lru_cache(maxsize=None)
def _plane(path: Path, equal_decay: bool) -> ModeSystem:
    modes = _mode_system(path._replace(target="online"), True)
    rhs = modes.rhs[:2]
    params = (sigma2, tau, alpha_p, eta, eta_p)
    if equal_decay:
        rhs = tuple(sp.expand(f.subs(eta_p, eta)) for f in rhs)
        params = (sigma2, tau, alpha_p, eta)
    return ModeSystem("plane", (p, s), rhs, params, path._replace(target="online"), "T11-T12",
                      "the (p, s) plane at fixed tau: T11-T12 under A2 (X = I, X' = sigma2 I)"
                      + (", eta_p = eta" if equal_decay else ""), (s >= 0,))


def plane_system(predictor: str = "trained", stop_gradient: str = "target", *, loss: str = "euclidean",
                 equal_decay: bool = True) -> ModeSystem:
    r"""(T11)-(T12) under A2 at fixed $\tau$ (a parameter): the $(p, s)$ plane.

    `equal_decay` sets $\eta_p = \eta$ (THEORY.md's single $\eta$, needed for T14 and T16).
    """
    return _plane(as_path(predictor, "online", stop_gradient, loss), equal_decay)


@lru_cache(maxsize=None)
def _parabola() -> ModeSystem:
    plane = _plane(Path("online", "target", "trained"), True)
    dp, ds = plane.rhs
    on_parabola = {s: p**2 / alpha_p}
    drift = sp.expand(ds - sp.diff(p**2 / alpha_p, p) * dp)  # d/dt (s - p^2/alpha_p)
    if sp.expand(drift.subs(on_parabola)) != 0:  # pragma: no cover - a failed derivation
        raise ArithmeticError(f"s = p^2/alpha_p is not invariant: d/dt(s - p^2/alpha_p) = {drift}")
    rhs = (sp.expand(dp.subs(on_parabola)),)
    return ModeSystem("parabola", (p,), rhs, (sigma2, tau, eta), plane.path, "T16",
                      "the invariant parabola s = p^2/alpha_p of the (p, s) plane (T14 with c = 0), "
                      "at fixed tau, A2, eta_p = eta", (p >= 0,))


def parabola_system() -> ModeSystem:
    r"""(T16): $\dot p$ on the invariant parabola $s = p^2/\alpha_p$ at fixed $\tau$ (A2,
    $\eta_p = \eta$, trained predictor, stop-gradient on the target). $\alpha_p$ drops out."""
    return _parabola()


@lru_cache(maxsize=None)
def _closed_form(loss: str, target: str, stop_gradient: str) -> ModeSystem:
    from ._losses import isoloss_flow

    if loss == "euclidean":
        flow = derive_flow("trained", "ema", stop_gradient, n1=1, n2=1)
    else:
        flow = isoloss_flow(n1=1, n2=1)
    subs = {flow.W[0, 0]: w, flow.Wp[0, 0]: w_p, flow.X[0, 0]: 1, flow.Xprime[0, 0]: sigma2,
            flow.Wa[0, 0]: tau * w, eta: r}
    dw = flow.dW[0, 0].subs(subs).subs(w_p, lam**alpha)  # T21: Wp = (W W^T)^alpha, no gradient through it
    lam_pos = sp.Symbol("lambda", positive=True)
    dlam = sp.powsimp(sp.expand((2 * w * dw).subs(w, sp.sqrt(lam_pos))), force=True).subs(lam_pos, lam)
    params = (sigma2, alpha, r, tau)
    if target == "online":
        dlam = dlam.subs(tau, 1)
        params = (sigma2, alpha, r)
    theory = {"euclidean": "T22", "isoloss": "T23"}[loss] + ", §7"
    description = (f"closed-form predictor Wp = (W W^T)^alpha (T21), {loss} loss, one mode lambda = w^2, "
                   "A2, weight decay r" + (", target W_a = tau W" if target == "ema" else ", SimSiam"))
    if stop_gradient != "target":
        theory = "§7 ablation"
        description += {"none": ", no stop-gradient", "online": ", stop-gradient on the wrong side"}[stop_gradient]
    return ModeSystem(loss, (lam,), (sp.factor_terms(sp.expand(dlam)),), params,
                      Path(target, stop_gradient, "trained", "isoloss_euclidean" if loss == "isoloss" else "euclidean"),
                      theory, description, (lam >= 0,))


def closed_form_system(loss: str = "euclidean", target: str = "online", stop_gradient: str = "target") -> ModeSystem:
    r"""(T22) / (T23) and their weight-decay forms (§7): $\dot\lambda$ for one mode with the
    closed-form predictor $W_p = (W W^T)^\alpha$ (T21).

    **Arguments:** `loss`: "euclidean" (T1's gradient) or "isoloss" (gradient $\partial L/\partial p$
    for $z_1$); `target`: "online" (SimSiam, the §7 setting) or "ema" (target $\tau W$, the bracket's 1
    becomes $\tau$); `stop_gradient` (Euclidean only): "target", or the §7 ablations "none" and
    "online" (wrong side). Weight decay $r$ is always present; put $r = 0$ for T22/T23.

    **Raises:** `ConfigError` for an unknown loss, target or stop-gradient.
    """
    from ..config import ConfigError

    if loss not in ("euclidean", "isoloss"):
        raise ConfigError("loss", loss, "must be one of euclidean, isoloss")
    if target not in ("online", "ema"):
        raise ConfigError("target", target, "must be one of ema, online")
    allowed = ("target", "none", "online") if loss == "euclidean" else ("target",)
    if stop_gradient not in allowed:
        raise ConfigError("stop_gradient", stop_gradient, f"must be one of {', '.join(allowed)} for the {loss} loss")
    return _closed_form(loss, target, stop_gradient)


def decoupling_residual(predictor: str = "trained", target="ema", stop_gradient: str = "target", *,
                        loss: str = "euclidean", n: int = 2) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    r"""Substitute aligned diagonal weights into the derived n x n flow (A1 per mode, A3, diagonal
    data: $W = \mathrm{diag}(w_j)$, $W_p = \mathrm{diag}(p_j)$, $W_a = \mathrm{diag}(w_{a,j})$,
    $X = \mathrm{diag}(\lambda_{d,j})$, $X + X' = \mathrm{diag}(\lambda_{s,j})$) and subtract, on the
    diagonal, the scalar flow of each mode with its own symbols.

    **Returns:** the residual matrices for $\dot W$, $\dot W_p$, $\dot W_a$; all zero means the modes
    decouple, each with its own $\tau_j = w_{a,j}/w_j$.
    """
    path = as_path(predictor, target, stop_gradient, loss)
    flow = derive_flow(path, n1=n, n2=n)
    one = scalar_flow(path)
    names = lambda base: [sp.Symbol(f"{base}_{j + 1}", real=True) for j in range(n)]  # noqa: E731
    ws, ps, was, lds, lss = names("w"), names("p"), names("wa"), names("lam_d"), names("lam_s")
    subs = {}
    for i in range(n):
        for j in range(n):
            subs[flow.W[i, j]] = ws[i] if i == j else 0
            subs[flow.Wp[i, j]] = ps[i] if i == j else 0
            subs[flow.X[i, j]] = lds[i] if i == j else 0
            subs[flow.Xprime[i, j]] = lss[i] - lds[i] if i == j else 0
            if path.target == "ema":
                subs[flow.Wa[i, j]] = was[i] if i == j else 0
    residuals = []
    scalar = dict(zip(one.state, one.rhs))
    for M, x in ((flow.dW, w), (flow.dWp, w_p), (flow.dWa, w_a if path.target == "ema" else w)):
        R = M.subs(subs)
        for j in range(n):
            mode = {w: ws[j], w_p: ps[j], w_a: was[j], lam_d: lds[j], lam_s: lss[j]}
            R[j, j] = R[j, j] - scalar[x].subs(mode, simultaneous=True)
        residuals.append(R.applyfunc(sp.expand))
    return tuple(residuals)


SYSTEMS = ("full", "plane", "parabola", "euclidean", "isoloss")
"""Names accepted by `named_system` and by `ssl-dynamics theory fixed-points --system`."""


def named_system(name: str) -> ModeSystem:
    """The THEORY.md systems by name: "full" (T11-T13 under A2, EMA, eta_p = eta), "plane" (T11-T12
    at fixed tau), "parabola" (T16), "euclidean" (T22 + weight decay r), "isoloss" (T23 + r).

    **Raises:** `ConfigError` (field "system") for an unknown name.
    """
    from ..config import ConfigError

    if name == "full":
        base = mode_system("trained", "ema", "target", isotropic=True).subs({eta_p: eta}, name="full")
        return replace(base, theory="T11-T13", description="one eigenmode in (p, s, tau) with the EMA target "
                       "(T11-T13), A2 (X = I, X' = sigma2 I), eta_p = eta")
    if name == "plane":
        return plane_system()
    if name == "parabola":
        return parabola_system()
    if name in ("euclidean", "isoloss"):
        return closed_form_system(name, "online")
    raise ConfigError("system", name, f"must be one of {', '.join(SYSTEMS)}")
