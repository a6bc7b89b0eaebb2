"""Eigenvalue trajectories of one run: eig(F), eig(Wp) and tau_j over time."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..integrate import Status
from ._levels import closed_form_levels
from ._style import SHORT_SYMBOLS, STATUS_COLOR, collapse_index, collapse_threshold, draw_levels
from ._style import mark_status, mode_colors
from ._style import subplots

__all__ = ["plot_eigenvalue_trajectories", "run_header", "log_time_axis"]


def run_header(attrs: dict) -> str:
    """One line naming the run's model, target, stop-gradient, predictor, loss and rates."""
    pred = attrs.get("predictor")
    alpha = attrs.get("predictor_alpha_effective", "unset")
    if alpha not in ("unset", None):
        pred = rf"{pred} ($\alpha$={alpha:g})"
    loss = attrs.get("loss", "euclidean")
    return (f"{attrs.get('model', '?')} model, target={attrs.get('target')}, sg={attrs.get('stop_gradient')}, "
            f"predictor={pred}" + ("" if loss == "euclidean" else f", loss={loss}") +
            f"; $\\sigma^2$={attrs.get('sigma2')}, $\\alpha_p$={attrs.get('alpha_p')}, "
            f"$\\beta$={attrs.get('beta')}, $\\eta$={attrs.get('eta')}")


def log_time_axis(ax, t: np.ndarray) -> None:
    """Log time axis from the first positive saved time (t = 0 is masked, not clipped)."""
    positive = t[t > 0]
    if positive.size:
        ax.set_xscale("log", nonpositive="mask")
        ax.set_xlim(positive[0], positive[-1] * 1.05)


def _time_axis(ax, t: np.ndarray, log_time: bool) -> None:
    ax.set_xlabel("flow time $t$")
    if log_time:
        log_time_axis(ax, t)


def plot_eigenvalue_trajectories(ds: xr.Dataset, *, log_time: bool = False, log_y: bool = False) -> Figure:
    r"""One line per mode for eig(F) (T9's F = W X W^T), eig(Wp) and, for an EMA target, tau_j (T13),
    with the levels THEORY.md predicts as dashed (stable) or dotted (unstable) lines
    (`closed_form_levels`: (p*_+, s*) of (T17) for a trained predictor, λ* of (T22)/(T23) for the
    power predictor, tr F(0)/M for the cosine loss (T24), ...).

    **Arguments:** `ds`, a result of `dynamics.simulate`; `log_time`: log time axis from the first
    positive saved time; `log_y`: log
    scale on the eig(F) panel (down to 1e-2 of the collapse threshold).

    Only computed times are drawn. A mode that ends at or below the collapse threshold (1e-6 of
    the largest initial eigenvalue, as in `dynamics.results.spectrum_outcome`) gets a cross where it
    went below it and "(collapsed)" in the legend. A run whose `status` is not ok gets a red banner
    with the status, red frames and a dotted line where it stopped, so a failed trajectory is never
    shown as if it were fine.
    """
    has_tau = ds.attrs.get("target") == "ema"
    ncols = 3 if has_tau else 2
    fig, axes = subplots(1, ncols, figsize=(4.2 * ncols, 3.6), constrained_layout=True)
    reached = ds["reached"].values.astype(bool)
    t = ds["time"].values[reached]
    panels = [("eig_F", "eigenvalues of $F = W X W^T$"), ("eig_Wp", "eigenvalues of $W_p$ (sym. part)")]
    if has_tau:
        panels.append(("tau", r"$\tau_j$ (target / online)"))
    n_modes = ds.sizes["mode"]
    colors = mode_colors(n_modes)
    eig_F = ds["eig_F"].values[reached]
    threshold = collapse_threshold(eig_F) if eig_F.size else 0.0
    collapsed = {m: collapse_index(eig_F[:, m], threshold) for m in range(n_modes)} if eig_F.size else {}
    for ax, (name, title) in zip(axes, panels):
        values = ds[name].values[reached]
        for m in range(values.shape[1]):
            label = f"mode {m}" + (" (collapsed)" if collapsed.get(m) is not None else "")
            ax.plot(t, values[:, m], color=colors[m], lw=1.4, label=label)
        ax.set_title(title)
        ax.set_ylabel(SHORT_SYMBOLS.get(name, name))
        if name == "tau" and np.isfinite(values).any():
            lo, hi = np.nanpercentile(values, [1, 99])
            ax.set_ylim(min(0.0, lo) - 0.05, max(1.2, hi) + 0.05)
        _time_axis(ax, t, log_time)
        ax.grid(alpha=0.3)
    ax_F = axes[0]
    for m, k in collapsed.items():
        if k is not None:
            ax_F.plot(t[k], max(eig_F[k, m], threshold if log_y else eig_F[k, m]), "x", color=colors[m],
                      ms=8, mew=2, gid=f"collapse:{m}")
    if log_y and eig_F.size:
        top = float(np.nanmax(eig_F[np.isfinite(eig_F)])) if np.isfinite(eig_F).any() else 1.0
        ax_F.set_yscale("log")
        ax_F.set_ylim(1e-2 * threshold, 2.0 * top)
    levels = closed_form_levels(ds)
    draw_levels(ax_F, levels, "eig_F")
    if draw_levels(axes[1], levels, "eig_Wp"):
        axes[1].legend(fontsize=7)
    if n_modes <= 10:
        ax_F.legend(fontsize=7, ncol=2)
    status = Status(int(ds["status"].values))
    header = run_header(ds.attrs)
    if status != Status.ok:
        t_stop = t[-1] if t.size else 0.0
        line = ""
        for ax in axes:
            line = mark_status(ax, status, t_stop)
        fig.suptitle(f"{header}\n{line}", color=STATUS_COLOR, fontsize=9)
    else:
        fig.suptitle(header, fontsize=9)
    return fig
