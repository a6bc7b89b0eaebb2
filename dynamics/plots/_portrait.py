"""Phase portrait of one eigenmode: the (p_j, s_j) plane at fixed tau (T11-T12), with streamlines,
nullclines, the invariant parabola s = p^2/alpha_p (T14), fixed points coloured by their Jacobian
classification, the collapse basin shaded and simulated trajectories overlaid."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.figure import Figure

from ..flows import GradientPath, ModeArgs, ModeWeights, mode_flow, mode_weight_flow, weights_to_modes
from ..flows import ModeState
from ..integrate import solve
from ._style import subplots

__all__ = ["PlaneFixedPoint", "plane_fixed_points", "plot_phase_portrait", "plot_phase_portrait_ema",
           "collapse_basin", "classify"]

CLASS_COLORS = {"stable": "#009E73", "unstable": "#D55E00", "saddle": "#E69F00", "non-hyperbolic": "#CC79A7"}


class PlaneFixedPoint(NamedTuple):
    """A fixed point of (T11)-(T12) at fixed tau, with the Jacobian eigenvalues that classify it."""

    p: float
    s: float
    eigenvalues: tuple[float, float]
    kind: str


def _plane_field(p, s, tau, sigma2, alpha_p, eta, eta_p):
    args = ModeArgs(lam_d=jnp.ones(()), lam_s=jnp.asarray(1.0 + sigma2), alpha_p=jnp.asarray(alpha_p),
                    beta=jnp.zeros(()), eta=jnp.asarray(eta), eta_p=jnp.asarray(eta_p),
                    path=GradientPath("ema", "target", "trained"))
    out = mode_flow(0.0, ModeState(p, s, jnp.asarray(tau)), args)
    return out.p, out.s


def classify(eigenvalues: np.ndarray, tol: float = 1e-9) -> str:
    """stable / unstable / saddle from the signs of the real parts; non-hyperbolic if one is ~0."""
    re = np.real(eigenvalues)
    if np.any(np.abs(re) <= tol):
        return "non-hyperbolic"
    if np.all(re < 0):
        return "stable"
    if np.all(re > 0):
        return "unstable"
    return "saddle"


def plane_fixed_points(sigma2: float, eta: float, tau: float = 1.0, alpha_p: float = 1.0,
                       eta_p: float | None = None) -> list[PlaneFixedPoint]:
    """Fixed points of (T11)-(T12) at fixed tau: the origin and p*_+-, s* of (T17) (on the parabola
    when eta_p = eta), classified from the Jacobian of the plane system (autodiff)."""
    eta_p = eta if eta_p is None else eta_p
    lam = 1.0 + sigma2
    points = [(0.0, 0.0)]
    disc = tau**2 - 4.0 * eta * lam
    if eta > 0 and disc >= 0:
        for sign in (1.0, -1.0):
            p = (tau + sign * np.sqrt(disc)) / (2.0 * lam)
            points.append((p, eta_p * p / (alpha_p * (tau - lam * p))))
    jac = jax.jacfwd(lambda y: jnp.stack(_plane_field(y[0], y[1], tau, sigma2, alpha_p, eta, eta_p)))
    out = []
    for p, s in points:
        with jax.enable_x64(True):
            J = np.asarray(jac(jnp.asarray([p, s], dtype=jnp.float64)))
        ev = np.linalg.eigvals(J)
        out.append(PlaneFixedPoint(float(p), float(s), tuple(sorted(np.real(ev).tolist())), classify(ev)))
    return out


def collapse_basin(p_grid: np.ndarray, s_grid: np.ndarray, sigma2: float, eta: float, tau: float = 1.0,
                   alpha_p: float = 1.0, t_max: float = 2000.0) -> np.ndarray:
    """Boolean map (len(s_grid), len(p_grid)): True where the plane system started at (p, s)
    collapses (s(t_max) <= 1e-6). SimSiam form (tau fixed, no EMA); one vmapped diffrax batch."""
    P, S = np.meshgrid(p_grid, s_grid)
    with jax.enable_x64(True):
        y0 = ModeWeights(jnp.asarray(P.ravel()), jnp.sqrt(jnp.asarray(S.ravel())), tau * jnp.sqrt(jnp.asarray(S.ravel())))
        y0 = jax.tree_util.tree_map(lambda a: a[:, None], y0)
        path = GradientPath("online" if tau == 1.0 else "ema", "target", "trained")
        args = ModeArgs(lam_d=jnp.ones(1), lam_s=jnp.full(1, 1.0 + sigma2), alpha_p=jnp.asarray(alpha_p),
                        beta=jnp.zeros(()), eta=jnp.asarray(eta), eta_p=jnp.asarray(eta), path=path)
        ts = jnp.asarray([0.0, t_max])
        traj = jax.vmap(lambda y: solve(_fixed_tau_flow, y, args, ts, rtol=1e-7, atol=1e-12))(y0)
        w_end = np.asarray(traj.ys.w[:, -1, 0])
    return (w_end**2 <= 1e-6).reshape(P.shape)


def _fixed_tau_flow(t, y: ModeWeights, args: ModeArgs) -> ModeWeights:
    """(T13b) with the target held at w_a = tau w (tau fixed): the (p, s) plane of (T11)-(T12)."""
    out = mode_weight_flow(t, y, args)
    tau = jnp.where(y.w != 0, y.wa / jnp.where(y.w != 0, y.w, 1.0), 0.0)
    return ModeWeights(out.p, out.w, tau * out.w)


def plot_phase_portrait(sigma2: float, eta: float, *, tau: float = 1.0, alpha_p: float = 1.0,
                        p_range: tuple[float, float] = (-0.1, 1.0), s_range: tuple[float, float] = (0.0, 1.0),
                        starts: Sequence[tuple[float, float]] = (), t_max: float = 2000.0,
                        basin_resolution: int = 60) -> Figure:
    """The (p_j, s_j) plane of one mode at fixed tau (T11-T12): streamlines, the nullclines
    dp/dt = 0 and ds/dt = 0, the invariant parabola s = p^2/alpha_p (T14, reached when eta > 0), the
    fixed points coloured by classification (legend gives the Jacobian eigenvalues), the collapse
    basin shaded, and trajectories from `starts` = [(p0, s0), ...] overlaid (integrated with diffrax)."""
    fig, ax = subplots(figsize=(6.4, 5.2), constrained_layout=True)
    p = np.linspace(*p_range, 240)
    s = np.linspace(*s_range, 240)
    P, S = np.meshgrid(p, s)
    with jax.enable_x64(True):
        dP, dS = (np.asarray(a) for a in _plane_field(jnp.asarray(P), jnp.asarray(S), tau, sigma2, alpha_p, eta, eta))
    basin = collapse_basin(np.linspace(*p_range, basin_resolution), np.linspace(max(s_range[0], 1e-6), s_range[1],
                           basin_resolution), sigma2, eta, tau, alpha_p, t_max)
    ax.contourf(np.linspace(*p_range, basin_resolution), np.linspace(max(s_range[0], 1e-6), s_range[1],
                basin_resolution), basin.astype(float), levels=[0.5, 1.5], colors=["#56B4E9"], alpha=0.25)
    speed = np.hypot(dP, dS)
    ax.streamplot(P, S, dP, dS, color=np.log10(speed + 1e-12), cmap="Greys", density=1.1, linewidth=0.7,
                  arrowsize=0.8)
    ax.contour(P, S, dP, levels=[0.0], colors="#0072B2", linewidths=1.3, linestyles="-")
    ax.contour(P, S, dS, levels=[0.0], colors="#D55E00", linewidths=1.3, linestyles="-")
    pp = np.linspace(*p_range, 200)
    ax.plot(pp, pp**2 / alpha_p, color="black", ls="--", lw=1.0, label=r"parabola $s=p^2/\alpha_p$ (T14)")
    ax.plot([], [], color="#0072B2", label=r"nullcline $\dot p=0$")
    ax.plot([], [], color="#D55E00", label=r"nullcline $\dot s=0$")
    ax.fill_between([], [], color="#56B4E9", alpha=0.25, label="collapse basin")
    for fp in plane_fixed_points(sigma2, eta, tau, alpha_p):
        ev = ", ".join(f"{v:+.3g}" for v in fp.eigenvalues)
        ax.plot(fp.p, fp.s, "o", ms=9, color=CLASS_COLORS[fp.kind], mec="black", zorder=5,
                label=f"({fp.p:.4g}, {fp.s:.3g}) {fp.kind}; eig {ev}")
    if starts:
        with jax.enable_x64(True):
            args = ModeArgs(lam_d=jnp.ones(1), lam_s=jnp.full(1, 1.0 + sigma2), alpha_p=jnp.asarray(alpha_p),
                            beta=jnp.zeros(()), eta=jnp.asarray(eta), eta_p=jnp.asarray(eta),
                            path=GradientPath("online" if tau == 1.0 else "ema", "target", "trained"))
            ts = jnp.concatenate([jnp.zeros(1), jnp.geomspace(1e-3, t_max, 400)])
            for p0, s0 in starts:
                y0 = ModeWeights(jnp.asarray([p0]), jnp.sqrt(jnp.asarray([s0])), tau * jnp.sqrt(jnp.asarray([s0])))
                traj = solve(_fixed_tau_flow, y0, args, ts, rtol=1e-9, atol=1e-12)
                m = weights_to_modes(traj.ys)
                ok = np.asarray(traj.reached)
                ax.plot(np.asarray(m.p[ok, 0]), np.asarray(m.s[ok, 0]), color="#CC79A7", lw=1.6)
                ax.plot([p0], [s0], "s", color="#CC79A7", ms=5)
    ax.set_xlim(*p_range)
    ax.set_ylim(*s_range)
    ax.set_xlabel(r"predictor eigenvalue $p_j$")
    ax.set_ylabel(r"$s_j$ (eigenvalue of $W W^T$)")
    ax.set_title(rf"mode phase portrait (T11-T12): $\sigma^2$={sigma2}, $\eta$={eta}, $\tau$={tau}, "
                 rf"$\alpha_p$={alpha_p}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def _parabola_ema_field(p, tau, sigma2, eta, beta):
    """(T16) with (T13) on the invariant parabola (c_j = 0): dp/dt = p^2 (tau - (1+sigma2) p) - eta p,
    dtau/dt = beta (1 - tau) - tau (p (tau - (1+sigma2) p) - eta) (alpha_p drops out on the parabola)."""
    gap = tau - (1.0 + sigma2) * p
    g = p * gap - eta
    return p * p * gap - eta * p, beta * (1.0 - tau) - tau * g


def plot_phase_portrait_ema(sigma2: float, eta: float, beta: float, *, p_range: tuple[float, float] = (0.0, 0.8),
                            tau_range: tuple[float, float] = (0.0, 1.3),
                            starts: Sequence[tuple[float, float]] = (), t_max: float = 2000.0) -> Figure:
    """The (p_j, tau_j) plane of one mode with an EMA target, on the invariant parabola s = p^2/alpha_p
    (T14 with c_j = 0; T16 with tau from T13): streamlines, nullclines, the curve of T17's p*_- and
    p*_+ as functions of tau (a mode left of p*_-(tau) shrinks while tau is that small: the
    curriculum of observation #8 and the trapping of #10), and trajectories from `starts` =
    [(p0, tau0), ...] integrated with scipy's DOP853."""
    from scipy.integrate import solve_ivp

    fig, ax = subplots(figsize=(6.4, 5.2), constrained_layout=True)
    p = np.linspace(*p_range, 240)
    tau = np.linspace(*tau_range, 240)
    P, T = np.meshgrid(p, tau)
    dP, dT = _parabola_ema_field(P, T, sigma2, eta, beta)
    ax.streamplot(P, T, dP, dT, color=np.log10(np.hypot(dP, dT) + 1e-12), cmap="Greys", density=1.1,
                  linewidth=0.7, arrowsize=0.8)
    ax.contour(P, T, dP, levels=[0.0], colors="#0072B2", linewidths=1.3)
    ax.contour(P, T, dT, levels=[0.0], colors="#D55E00", linewidths=1.3)
    lam = 1.0 + sigma2
    tt = np.linspace(max(tau_range[0], np.sqrt(4 * eta * lam)) if eta > 0 else tau_range[0], tau_range[1], 300)
    disc = np.sqrt(np.maximum(tt**2 - 4 * eta * lam, 0.0))
    ax.plot((tt - disc) / (2 * lam), tt, color="#E69F00", lw=2.0, ls=":", label=r"$p^*_-(\tau)$ (T17)")
    ax.plot((tt + disc) / (2 * lam), tt, color="#009E73", lw=2.0, ls=":", label=r"$p^*_+(\tau)$ (T17)")
    ax.plot([], [], color="#0072B2", label=r"nullcline $\dot p=0$")
    ax.plot([], [], color="#D55E00", label=r"nullcline $\dot\tau=0$")
    for p0, tau0 in starts:
        sol = solve_ivp(lambda t, y: _parabola_ema_field(y[0], y[1], sigma2, eta, beta), (0.0, t_max), [p0, tau0],
                        method="DOP853", rtol=1e-9, atol=1e-12, dense_output=False,
                        t_eval=np.concatenate([[0.0], np.geomspace(1e-3, t_max, 400)]))
        ax.plot(sol.y[0], sol.y[1], color="#CC79A7", lw=1.6)
        ax.plot([p0], [tau0], "s", color="#CC79A7", ms=5)
    ax.set_xlim(*p_range)
    ax.set_ylim(*tau_range)
    ax.set_xlabel(r"predictor eigenvalue $p_j$")
    ax.set_ylabel(r"$\tau_j$ (target / online)")
    ax.set_title(rf"EMA mode on the parabola (T13, T16): $\sigma^2$={sigma2}, $\eta$={eta}, $\beta$={beta}",
                 fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return fig
