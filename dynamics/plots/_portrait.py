"""Phase portrait of one eigenmode: the (p_j, s_j) plane at fixed tau (T11-T12), with streamlines,
nullclines, the invariant parabola s = p^2/alpha_p (T14), fixed points coloured by their Jacobian
classification, the collapse basin shaded and simulated trajectories overlaid.

Length: over 400 lines on purpose: the plane's field, nullclines, fixed points, basin and the overlaid runs
share one set of axes and limits.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import matplotlib.patches
import matplotlib.ticker
import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ._runinfo import is_training_log
from ._style import FONT, collapse_threshold, figure_legend, fit_legends, mode_colors, subplots

__all__ = ["PlaneFixedPoint", "plane_fixed_points", "plot_phase_portrait", "plot_phase_portrait_ema",
           "collapse_basin", "classify", "plane_rhs", "RunPath", "run_paths", "portrait_warnings",
           "plot_run_portrait"]

CLASS_COLORS = {"stable": "#009E73", "unstable": "#D55E00", "saddle": "#E69F00", "non-hyperbolic": "#CC79A7"}
BASIN_COLOR = "#56B4E9"
NULLCLINE_COLORS = ("#0072B2", "#D55E00")


class PlaneFixedPoint(NamedTuple):
    """A fixed point of (T11)-(T12) at fixed tau, with the Jacobian eigenvalues that classify it."""

    p: float
    s: float
    eigenvalues: tuple[float, float]
    kind: str


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
    when eta_p = eta), classified from the Jacobian of the plane system (`plane_rhs` differentiated by
    hand: d(dp/dt)/dp = -alpha_p (1+sigma2) s - eta_p, d(dp/dt)/ds = alpha_p (tau - (1+sigma2) p),
    d(ds/dt)/dp = 2 s (tau - 2 (1+sigma2) p), d(ds/dt)/ds = 2 (p (tau - (1+sigma2) p) - eta))."""
    eta_p = eta if eta_p is None else eta_p
    lam = 1.0 + sigma2
    points = [(0.0, 0.0)]
    disc = tau**2 - 4.0 * eta * lam
    if eta > 0 and disc >= 0:
        for sign in (1.0, -1.0):
            p = (tau + sign * np.sqrt(disc)) / (2.0 * lam)
            points.append((p, eta_p * p / (alpha_p * (tau - lam * p))))
    out = []
    for p, s in points:
        gap = tau - lam * p
        J = np.array([[-alpha_p * lam * s - eta_p, alpha_p * gap],  # d(dp/dt)/d(p, s)
                      [2.0 * s * (tau - 2.0 * lam * p), 2.0 * (p * gap - eta)]])  # d(ds/dt)/d(p, s)
        ev = np.linalg.eigvals(J)
        out.append(PlaneFixedPoint(float(p), float(s), tuple(sorted(np.real(ev).tolist())), classify(ev)))
    return out


def plane_rhs(p: np.ndarray, s: np.ndarray, tau: float, sigma2: float, alpha_p: float, eta: float,
              eta_p: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(dp/dt, ds/dt) of (T11)-(T12) at fixed tau under A2 (NumPy): dp/dt = alpha_p s (tau - (1+sigma2) p)
    - eta_p p, ds/dt = 2 s (p (tau - (1+sigma2) p) - eta), as `dynamics.flows.mode_flow`."""
    eta_p = eta if eta_p is None else eta_p
    gap = tau - (1.0 + sigma2) * p
    return alpha_p * s * gap - eta_p * p, 2.0 * s * (p * gap - eta)


# Dormand-Prince 5(4) tableau
_DP_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
_DP_A = [[], [1 / 5], [3 / 40, 9 / 40], [44 / 45, -56 / 15, 32 / 9],
         [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
         [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
         [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]]
_DP_B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0])
_DP_E = _DP_B - np.array([5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40])


def _integrate_plane(p0: np.ndarray, s0: np.ndarray, sigma2: float, eta: float, tau: float, alpha_p: float,
                     t_max: float, rtol: float = 1e-7, atol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """(p, s) at t_max of the plane system from every start at once (NumPy Dormand-Prince 5(4) with one
    step size for the batch, the largest error over the batch controlling it). The state is (p, u) with
    u = log(s)/2, in which a collapse is a straight line (du/dt = p(tau - (1+sigma2)p) - eta), so
    collapsing starts are neither stiff nor lost to underflow. A start leaves the batch once its fate is
    sealed: s so small that even the fastest growth, du/dt <= tau^2/(4(1+sigma2)) - eta, cannot bring
    it back above 1e-6 by t_max, or at rest (a fixed point)."""
    lam = 1.0 + sigma2
    shape = np.shape(p0)
    y = np.stack([np.asarray(p0, dtype=float).ravel(), 0.5 * np.log(np.maximum(np.asarray(s0, dtype=float).ravel(),
                                                                                  1e-300))])
    out = y.copy()
    active = np.arange(y.shape[1])
    g_max = tau**2 / (4.0 * lam) - eta
    u_floor = 0.5 * np.log(1e-6)

    def f(y):
        p, u = y
        gap = tau - lam * p
        s = np.exp(np.minimum(2.0 * u, 700.0))
        return np.stack([alpha_p * s * gap - eta * p, p * gap - eta])

    t, h = 0.0, 1e-2
    k1 = f(y)
    for _ in range(100_000):
        if t >= t_max or not active.size:
            break
        h = min(h, t_max - t)
        ks = [k1]
        for i in range(1, 7):
            ks.append(f(y + h * sum(a * k for a, k in zip(_DP_A[i], ks))))
        y_new = y + h * sum(b * k for b, k in zip(_DP_B, ks) if b != 0.0)
        err = h * sum(e * k for e, k in zip(_DP_E, ks) if e != 0.0)
        scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
        ratio = float(np.max(np.abs(err) / scale)) if err.size else 0.0
        if ratio <= 1.0 or h < 1e-10:
            t, y, k1 = t + h, y_new, ks[-1]
            sealed = (y[1] + max(g_max, 0.0) * (t_max - t) < u_floor - 1.0) | (np.max(np.abs(k1), axis=0) < 1e-13)
            if sealed.any():
                out[:, active[sealed]] = y[:, sealed]
                keep = ~sealed
                active, y, k1 = active[keep], y[:, keep], k1[:, keep]
        h *= min(5.0, max(0.2, 0.9 * (ratio + 1e-16) ** -0.2))
    out[:, active] = y
    return out[0].reshape(shape), np.exp(2.0 * out[1]).reshape(shape)


def collapse_basin(p_grid: np.ndarray, s_grid: np.ndarray, sigma2: float, eta: float, tau: float = 1.0,
                   alpha_p: float = 1.0, t_max: float = 2000.0) -> np.ndarray:
    """Boolean map (len(s_grid), len(p_grid)): True where the plane system (T11)-(T12) at fixed tau,
    started at (p, s), collapses (s(t_max) <= 1e-6). Every start integrated at once in NumPy
    (`_integrate_plane`, Dormand-Prince 5(4)), no compilation."""
    P, S = np.meshgrid(np.asarray(p_grid, dtype=float), np.asarray(s_grid, dtype=float))
    _, s_end = _integrate_plane(P, S, sigma2, eta, tau, alpha_p, t_max)
    return s_end <= 1e-6


class RunPath(NamedTuple):
    """A trajectory drawn on a portrait: `label`, `p` and `s` over time, `color`."""

    label: str
    p: np.ndarray
    s: np.ndarray
    color: str


def _start_paths(starts, sigma2: float, eta: float, tau: float, alpha_p: float, t_max: float) -> list[RunPath]:
    """The plane system at fixed tau integrated from each (p0, s0) of `starts` (scipy DOP853)."""
    from scipy.integrate import solve_ivp

    lam = 1.0 + sigma2
    out = []
    colors = mode_colors(len(starts))
    t_eval = np.concatenate([[0.0], np.geomspace(1e-3, t_max, 400)])
    for k, (p0, s0) in enumerate(starts):
        def rhs(t, y):
            p, u = y
            gap = tau - lam * p
            return [alpha_p * np.exp(min(2.0 * u, 700.0)) * gap - eta * p, p * gap - eta]

        sol = solve_ivp(rhs, (0.0, t_max), [p0, 0.5 * np.log(max(s0, 1e-300))], method="DOP853", rtol=1e-9,
                        atol=1e-12, t_eval=t_eval)
        out.append(RunPath(f"start ({p0:.3g}, {s0:.3g})", sol.y[0], np.exp(2.0 * sol.y[1]), colors[k]))
    return out


def _draw_plane(ax, sigma2: float, eta: float, tau: float, alpha_p: float, p_range, s_range, t_max: float,
                basin_resolution: int, *, streams: bool = True, marker_size: float = 9.0) -> list:
    """Field, basin, nullclines, parabola and fixed points of one (p, s) plane on `ax`; returns the
    legend handles (one per element, fixed points with their classification)."""
    p = np.linspace(*p_range, 200)
    s = np.linspace(*s_range, 200)
    P, S = np.meshgrid(p, s)
    dP, dS = plane_rhs(P, S, tau, sigma2, alpha_p, eta)
    bp = np.linspace(*p_range, basin_resolution)
    # from half a cell above the lower edge: a start at s <= 1e-6 would count as collapsed from t = 0
    bs = np.linspace(max(s_range[0], (s_range[1] - s_range[0]) / (2.0 * basin_resolution)), s_range[1],
                     basin_resolution)
    basin = collapse_basin(bp, bs, sigma2, eta, tau, alpha_p, t_max)
    handles = []
    if basin.any():
        ax.contourf(bp, bs, basin.astype(float), levels=[0.5, 1.5], colors=[BASIN_COLOR], alpha=0.35, zorder=0)
    handles.append(matplotlib.patches.Patch(color=BASIN_COLOR, alpha=0.35,
                                            label=rf"collapse basin ($s \leq 10^{{-6}}$ at $t$ = {t_max:g})"))
    if streams:
        speed = np.hypot(dP / (np.ptp(p) or 1.0), dS / (np.ptp(s) or 1.0))
        ax.streamplot(P, S, dP, dS, color=np.log10(speed + 1e-12), cmap="Greys", density=1.0, linewidth=0.7,
                      arrowsize=0.8, zorder=1)
    ax.contour(P, S, dP, levels=[0.0], colors=NULLCLINE_COLORS[0], linewidths=1.3, zorder=2)
    ax.contour(P, S, dS, levels=[0.0], colors=NULLCLINE_COLORS[1], linewidths=1.3, zorder=2)
    handles.append(Line2D([], [], color=NULLCLINE_COLORS[0], label=r"nullcline $\dot p=0$"))
    handles.append(Line2D([], [], color=NULLCLINE_COLORS[1], label=r"nullcline $\dot s=0$"))
    pp = np.linspace(*p_range, 300)
    (parabola,) = ax.plot(pp, pp**2 / alpha_p, color="black", ls="--", lw=1.0, zorder=2,
                          label=r"parabola $s=p^2/\alpha_p$ (T14)")
    handles.append(parabola)
    for fp in plane_fixed_points(sigma2, eta, tau, alpha_p):
        if not (p_range[0] <= fp.p <= p_range[1] and s_range[0] <= fp.s <= s_range[1]):
            continue
        ev = ", ".join(f"{v:+.3g}" for v in fp.eigenvalues)
        name = "origin" if fp.p == 0.0 and fp.s == 0.0 else ("$p^*_+$" if fp.p > 0.5 * tau / (1.0 + sigma2)
                                                              else "$p^*_-$")
        label = f"{name} ({fp.p:.4g}, {fp.s:.3g}): {fp.kind}; eig {ev}"
        (mark,) = ax.plot(fp.p, fp.s, "o", ms=marker_size, color=CLASS_COLORS[fp.kind], mec="black", zorder=4,
                          clip_on=False, label=label, gid=f"fixed_point:{fp.kind}")
        handles.append(mark)
    ax.set_xlim(*p_range)
    ax.set_ylim(*s_range)
    return handles


def _draw_paths(ax, paths: Sequence[RunPath], *, labels: bool = True) -> list:
    handles = []
    for path in paths:
        ok = np.isfinite(path.p) & np.isfinite(path.s)
        (line,) = ax.plot(path.p[ok], path.s[ok], color=path.color, lw=1.7, zorder=3,
                          label=path.label if labels else "_nolegend_")
        if ok.any():
            first, last = np.flatnonzero(ok)[[0, -1]]
            ax.plot([path.p[first]], [path.s[first]], "s", color=path.color, ms=5, mec="white", mew=0.6, zorder=3.5)
            ax.plot([path.p[last]], [path.s[last]], "o", color=path.color, ms=4.5, mec="white", mew=0.6, zorder=3.5)
        handles.append(line)
    return handles


def _inset_window(sigma2: float, eta: float, tau: float, alpha_p: float, p_range, s_range, force: bool = False):
    """(p range, s range) of a zoom on the origin that shows the collapse basin and the saddle p*_-; None
    without a saddle (no weight decay, or past eta*) or, unless `force`, when the basin is already large
    on the main axes."""
    lam = 1.0 + sigma2
    disc = tau**2 - 4.0 * eta * lam
    if eta <= 0 or disc < 0:
        return None
    p_minus = (tau - np.sqrt(disc)) / (2.0 * lam)
    s_minus = p_minus**2 / alpha_p
    if p_minus > 0.08 * (p_range[1] - p_range[0]) and not force:
        return None
    return (-1.5 * p_minus, 4.0 * p_minus), (0.0, 12.0 * s_minus)


def plot_phase_portrait(sigma2: float, eta: float | Sequence[float], *, tau: float = 1.0, alpha_p: float = 1.0,
                        p_range: tuple[float, float] = (-0.1, 1.0), s_range: tuple[float, float] = (0.0, 1.0),
                        starts: Sequence[tuple[float, float]] = (), t_max: float = 2000.0,
                        basin_resolution: int = 60, runs: Sequence[RunPath] = (), inset: bool | None = None,
                        runs_eta: float | None = None, notes: Sequence[str] = ()) -> Figure:
    """The (p_j, s_j) plane of one mode at fixed tau (T11-T12): streamlines, the nullclines
    dp/dt = 0 and ds/dt = 0, the invariant parabola s = p^2/alpha_p (T14, reached when eta > 0), the
    fixed points coloured by classification (legend gives the Jacobian eigenvalues; markers are not
    clipped at the frame), the collapse basin shaded, and trajectories overlaid: from `starts` =
    [(p0, s0), ...] (integrated at fixed tau) and `runs` (`RunPath`s, e.g. a simulation's modes), one
    colour each with a legend.

    `eta` may be a sequence: one panel per value side by side (as TCG21's figure), the `runs` drawn on
    the panel of `runs_eta` (default: every panel). `inset`: a zoom on the origin that shows the collapse
    basin and the saddle p*_- (None: when the basin is small on the main axes; True: whenever there is a
    saddle; False: never). `notes`: lines
    printed under the panels (warnings)."""
    etas = [float(eta)] if np.ndim(eta) == 0 else [float(e) for e in eta]
    n = len(etas)
    width = 6.0 * n + (4.6 if n == 1 else 0.4)
    fig, axes = subplots(1, n, figsize=(width, 5.4 + (0.0 if n == 1 else 1.6) + 0.3 * len(notes)),
                         constrained_layout=True, squeeze=False)
    paths = list(runs) + _start_paths(starts, sigma2, etas[0] if n == 1 else etas[0], tau, alpha_p, t_max) \
        if starts else list(runs)
    legend: dict[str, object] = {}
    for k, (ax, e) in enumerate(zip(axes[0], etas)):
        handles = _draw_plane(ax, sigma2, e, tau, alpha_p, p_range, s_range, t_max, basin_resolution)
        show_runs = runs_eta is None or np.isclose(e, runs_eta, rtol=1e-9, atol=1e-15)
        drawn = _draw_paths(ax, paths) if show_runs else []
        window = (_inset_window(sigma2, e, tau, alpha_p, p_range, s_range, force=inset is True)
                  if inset in (None, True) else None)
        if window is not None:
            sub = ax.inset_axes([0.14, 0.53, 0.40, 0.42], zorder=5)
            _draw_plane(sub, sigma2, e, tau, alpha_p, window[0], window[1], t_max, basin_resolution, streams=True,
                        marker_size=6.5)
            if show_runs:
                _draw_paths(sub, paths, labels=False)
            sub.set_xlim(*window[0])
            sub.set_ylim(*window[1])
            sub.tick_params(labelsize=FONT["small"])
            for axis in (sub.xaxis, sub.yaxis):
                axis.set_major_locator(matplotlib.ticker.MaxNLocator(3))
                axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.2g}"))
            sub.set_title("zoom on the origin: collapse basin", fontsize=FONT["small"], pad=2)
            sub.set_facecolor("white")
            ax.indicate_inset_zoom(sub, edgecolor="0.3")
        for h in handles + drawn:
            key = h.get_label()
            if key.startswith("_"):
                continue
            if isinstance(h, Line2D) and h.get_gid() and h.get_gid().startswith("fixed_point"):
                key = f"{key} [η={e:g}]" if n > 1 else key
                h.set_label(key)
            legend.setdefault(key, h)
        ax.set_xlabel(r"predictor eigenvalue $p_j$", fontsize=FONT["normal"])
        if k == 0:
            ax.set_ylabel(r"$s_j$ (eigenvalue of $W W^T$)", fontsize=FONT["normal"])
        ax.set_title(rf"$\eta$={e:g}" if n > 1 else "", fontsize=FONT["title"])
    figure_legend(fig, list(legend.values()), list(legend.keys()), ncol=1 if n == 1 else 2 * n,
                  loc="outside right center" if n == 1 else "outside lower center")
    head = (rf"phase portrait of one mode (T11-T12) at fixed $\tau$={tau:g}: $\sigma^2$={sigma2:g}, "
            rf"$\alpha_p$={alpha_p:g}" + (rf", $\eta$={etas[0]:g}" if n == 1 else ""))
    fig.suptitle(head + "".join("\n" + note for note in notes), fontsize=FONT["header"],  # folded by fit_legends
                 color="black" if not notes else "#9A4A00")
    fit_legends(fig)
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
        ax.plot([p0], [tau0], "s", color="#CC79A7", ms=5, clip_on=False, zorder=4)
    ax.set_xlim(*p_range)
    ax.set_ylim(*tau_range)
    ax.set_xlabel(r"predictor eigenvalue $p_j$")
    ax.set_ylabel(r"$\tau_j$ (target / online)")
    ax.set_title(rf"EMA mode on the parabola (T13, T16): $\sigma^2$={sigma2}, $\eta$={eta}, $\beta$={beta}",
                 fontsize=FONT["title"])
    figure_legend(fig, ncol=2)
    fit_legends(fig)
    return fig


def _run_rates(ds: xr.Dataset) -> dict:
    """sigma2, eta, alpha_p of a simulation or (synthetic isotropic data) a training log's flow rates."""
    a = ds.attrs
    if is_training_log(ds):
        return {"sigma2": float(a.get("train_sigma2", np.nan)), "eta": float(a.get("eta", np.nan)),
                "alpha_p": float(a.get("alpha_p", 1.0))}
    return {"sigma2": float(a["sigma2"]), "eta": float(a["eta"]), "alpha_p": float(a["alpha_p"])}


def portrait_support(ds: xr.Dataset) -> str | None:
    """None when `ds` can be drawn on the (p, s) plane, else the reason: the plane of (T11)-(T12) is that
    of isotropic data (A2) with the Euclidean loss, a trained predictor and the usual stop-gradient."""
    a = ds.attrs
    if is_training_log(ds):
        if a.get("train_dataset") != "synthetic" or str(a.get("train_x_eigs", "unset")) != "unset":
            return "a training log is drawn on the plane only for synthetic isotropic data (--dataset synthetic)"
        if a.get("predictor") not in ("linear", "symmetric") or "p" not in ds:
            return "the plane needs a trained linear predictor (its eigenvalues p_j)"
        return None
    if a.get("simulator") in ("er", "issl"):
        return (f"a run of the {a.get('simulator')} simulator trains another objective than the Euclidean loss "
                "(T1); the plane of T11-T12 is not its flow")
    if a.get("data") != "isotropic":
        return "needs a run with isotropic data (the plane of T11-T12)"
    if a.get("predictor") not in ("trained", "symmetric") or a.get("loss", "euclidean") != "euclidean" \
            or a.get("stop_gradient", "target") != "target":
        return ("the plane of T11-T12 is that of a trained predictor under the Euclidean loss with the usual "
                "stop-gradient; this run has predictor=" + str(a.get("predictor")) + ", loss=" + str(a.get("loss"))
                + ", stop_gradient=" + str(a.get("stop_gradient")))
    return None


def run_paths(ds: xr.Dataset) -> tuple[list[RunPath], str]:
    """The modes of a run as (p_j(t), s_j(t)) paths, one colour each, and a note on where they come from.

    Eigenmode model: its `p`, `s`. Full model (and a training log on synthetic isotropic data): the
    projection on the eigenbasis of F = W X Wᵀ = W Wᵀ (X = I), s_j = eig_F_j and p_j = u_jᵀ W_p u_j
    (the result's `p`), exact when W_p and F are aligned (Theorem 3), a projection otherwise."""
    reached = ds["reached"].values.astype(bool) if "reached" in ds else np.ones(ds.sizes["time"], bool)
    if "s" in ds and "p" in ds and ds.attrs.get("model") == "modes":
        p, s = ds["p"].values[reached], ds["s"].values[reached]
        note = ""
    elif "p" in ds and "eig_F" in ds:
        p, s = ds["p"].values[reached], ds["eig_F"].values[reached]
        note = ("modes projected on the eigenbasis of F (s_j = eigenvalue of F, p_j = u_j^T Wp u_j): exact when "
                "Wp and F are aligned (Theorem 3)")
    else:
        raise ValueError("the run records neither (p, s) nor (p, eig_F): it cannot be drawn on the (p, s) plane")
    colors = mode_colors(p.shape[1])
    paths = [RunPath(f"mode {j}: start ({p[0, j]:.3g}, {s[0, j]:.3g})", p[:, j], s[:, j], colors[j])
             for j in range(p.shape[1])]
    return paths, note


def portrait_warnings(ds: xr.Dataset, tau: float) -> list[str]:
    """Why the run's paths may not follow the drawn plane: tau_j moved during the run (an EMA target,
    e.g. from tau0 = 0) while the plane is drawn at fixed `tau`."""
    notes = []
    if ds.attrs.get("target") == "ema" and "tau" in ds:
        reached = ds["reached"].values.astype(bool) if "reached" in ds else np.ones(ds.sizes["time"], bool)
        tau_t = np.asarray(ds["tau"].values[reached], dtype=float)
        if "eig_F" in ds:
            lam = np.asarray(ds["eig_F"].values[reached], dtype=float)
            tau_t = np.where(lam > collapse_threshold(lam), tau_t, np.nan)
        finite = tau_t[np.isfinite(tau_t)]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            if max(abs(lo - tau), abs(hi - tau)) > 0.05:
                notes.append(f"warning: tau_j moved between {lo:.2g} and {hi:.2g} during the run (EMA target"
                             + (f" from tau0 = {ds.attrs['tau0']}" if "tau0" in ds.attrs else "")
                             + f"); the plane is drawn at fixed tau = {tau:g}, so the paths cross it (T13)")
    return notes


def plot_run_portrait(ds: xr.Dataset, *, tau: float | None = None, eta: float | Sequence[float] | None = None,
                      p_range: tuple[float, float] | None = None, s_range: tuple[float, float] | None = None,
                      inset: bool | None = None, basin_resolution: int = 60) -> Figure:
    """The (p, s) plane of a run (`plot_phase_portrait`) with the run's modes drawn on it (`run_paths`: the
    eigenmode model's own (p_j, s_j), a full model's or a training log's projection on F's eigenbasis),
    one colour per mode.

    **Arguments:** `tau`: the plane's fixed tau (default 1: SimSiam, or an EMA target at rest; a
    warning is printed on the figure when the run's tau_j moved, `portrait_warnings`); `eta`: one value
    or several (panels side by side; the run is drawn on the panel of its own eta; default the run's);
    `p_range`, `s_range`: axis limits (default: the fixed points and the run's paths); `inset`: zoom on
    the origin (default when the collapse basin is small).

    **Raises:** `ValueError` with the reason when the run has no (p, s) plane (`portrait_support`)."""
    reason = portrait_support(ds)
    if reason is not None:
        raise ValueError(reason)
    rates = _run_rates(ds)
    tau = 1.0 if tau is None else float(tau)
    etas = [rates["eta"]] if eta is None else ([float(eta)] if np.ndim(eta) == 0 else [float(e) for e in eta])
    paths, note = run_paths(ds)
    lam = 1.0 + rates["sigma2"]
    if p_range is None:
        ps = np.concatenate([pth.p[np.isfinite(pth.p)] for pth in paths] + [np.array([1.2 * tau / lam])])
        lo, hi = min(0.0, float(ps.min())), float(ps.max())
        p_range = (lo - 0.06 * (hi - lo), hi + 0.04 * (hi - lo))
    if s_range is None:
        ss = np.concatenate([pth.s[np.isfinite(pth.s)] for pth in paths]
                            + [np.array([(1.2 * tau / lam) ** 2 / rates["alpha_p"] * 1.2])])
        s_range = (0.0, 1.06 * float(ss.max()))
    notes = portrait_warnings(ds, tau) + ([note] if note else [])
    t_max = 2000.0  # the basin is "collapsed by t_max", and the legend says so
    return plot_phase_portrait(rates["sigma2"], etas if len(etas) > 1 else etas[0], tau=tau,
                               alpha_p=rates["alpha_p"], p_range=p_range, s_range=s_range, runs=paths,
                               t_max=t_max, basin_resolution=basin_resolution, inset=inset,
                               runs_eta=rates["eta"], notes=notes)
