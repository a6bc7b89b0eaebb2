"""Eigenvalue trajectories of one run (a simulation or a training log): eig(F), eig(Wp) and tau_j over time."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..integrate import Status
from ._levels import closed_form_levels
from ._runinfo import epoch_axis, has_theory_config, is_training_log, run_header
from ._style import (FONT, SHORT_SYMBOLS, STATUS_COLOR, collapse_index, collapse_marker, collapse_threshold,
                     draw_levels, figure_legend, fit_legends, mark_status, mode_colors, subplots, time_axis)

__all__ = ["plot_eigenvalue_trajectories", "run_header", "trajectory_panels", "MAX_LEGEND_MODES"]

#: Modes named one by one in the legend; beyond, the legend names the first and the last.
MAX_LEGEND_MODES = 20
_TITLES = {"eig_F": r"eigenvalues $\lambda_m$ of $F = W X W^T$", "eig_Wp": r"eigenvalues $p_m$ of $W_p$ (sym. part)",
           "tau": r"$\tau_j$ (target / online)"}
_TRAINING_TITLES = {"eig_F": r"eigenvalues $\lambda_m$ of $\hat F$ (probe set)",
                    "eig_Wp": r"eigenvalues $p_m$ of $W_p$ (sym. part)", "tau": r"$\tau_j$ (target / online)"}


def trajectory_panels(ds: xr.Dataset) -> list[str]:
    """The variables drawn, one panel each: eig_F, then eig_Wp and tau_j where the run has them
    (tau_j only for an EMA target: it is 1 by construction for SimSiam)."""
    panels = [name for name in ("eig_F", "eig_Wp") if name in ds and ds[name].dims == ("time", "mode")]
    if "tau" in ds and ds["tau"].dims == ("time", "mode") and ds.attrs.get("target") == "ema":
        panels.append("tau")
    if not panels:
        raise ValueError("the run has none of eig_F, eig_Wp, tau over (time, mode): nothing to draw")
    return panels


def _tau_limits(values: np.ndarray) -> tuple[float, float]:
    """y range of the tau panel from the modes that are alive: 0 to 1 at least, widened to the 2nd-98th
    percentile of what is drawn (a ratio of two vanishing numbers can spike; it is not drawn)."""
    finite = values[np.isfinite(values)]
    lo, hi = (np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0))
    lo, hi = min(0.0, float(lo)), max(1.1, float(hi))
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def plot_eigenvalue_trajectories(ds: xr.Dataset, *, log_time: bool = False, log_y: bool = False) -> Figure:
    r"""One line per mode for eig(F) (T9's F = W X W^T), eig(Wp) and, for an EMA target, tau_j (T13),
    with the levels THEORY.md predicts as dashed (stable) or dotted (unstable) lines
    (`closed_form_levels`: (p*_+, s*) of (T17) for a trained predictor, λ* of (T22)/(T23) for the
    power predictor, tr F(0)/M for the cosine loss (T24), ...).

    **Arguments:** `ds`, a result of `dynamics.simulate` or a training log of `dynamics.bridge.train`
    (`time` in flow time; its panels are those of eig_F, eig_Wp, tau it has, with an epoch axis on
    top); `log_time`: log time axis (a run saved from t = 0 on a linear grid gets a symmetric-log axis
    so that its start stays visible, `time_axis`); `log_y`: log scale on the eig(F) panel (down to
    1e-2 of the collapse threshold).

    Only computed times are drawn. A mode that ends at or below the collapse threshold (1e-6 of
    the largest initial eigenvalue, as in `dynamics.results.spectrum_outcome`) gets a cross where it
    went below it and "(collapsed)" in the legend; tau_j is not drawn where the mode is below the
    threshold (a ratio of two vanishing numbers), and its axis range is set by the modes that survive.
    One legend, below the panels, names the modes, the collapse mark and the levels. A run whose
    `status` is not ok gets a red banner with the status, red frames and a dotted line where it
    stopped, so a failed trajectory is never shown as if it were fine. Levels are drawn only for
    simulation results (a training log has no simulator configuration to derive them from).
    """
    panels = trajectory_panels(ds)
    ncols = len(panels)
    fig, axes = subplots(1, ncols, figsize=(4.4 * ncols, 4.3), constrained_layout=True, squeeze=False)
    axes = list(axes[0])
    reached = ds["reached"].values.astype(bool) if "reached" in ds else np.ones(ds.sizes["time"], bool)
    t = np.asarray(ds["time"].values, dtype=float)[reached]
    n_modes = ds.sizes["mode"]
    colors = mode_colors(n_modes)
    eig_F = ds["eig_F"].values[reached] if "eig_F" in ds else np.empty((0, n_modes))
    threshold = collapse_threshold(eig_F) if eig_F.size else 0.0
    collapsed = {m: collapse_index(eig_F[:, m], threshold) for m in range(n_modes)} if eig_F.size else {}
    training = is_training_log(ds)
    titles = _TRAINING_TITLES if training else _TITLES
    mode_lines: list[Line2D] = []
    for ax, name in zip(axes, panels):
        values = np.asarray(ds[name].values[reached], dtype=float)
        if name == "tau" and eig_F.size:  # tau_j = w_a / w of two vanishing numbers: not drawn
            values = np.where(eig_F > threshold, values, np.nan)
            for m, k in collapsed.items():
                if k is not None:
                    values[k:, m] = np.nan
        for m in range(values.shape[1]):
            label = f"mode {m}" + (" (collapsed)" if collapsed.get(m) is not None else "")
            (line,) = ax.plot(t, values[:, m], color=colors[m], lw=1.5, label=label)
            if ax is axes[0]:
                mode_lines.append(line)
        ax.set_title(titles[name], fontsize=FONT["title"])
        ax.set_ylabel(SHORT_SYMBOLS.get(name, name), fontsize=FONT["normal"])
        if name == "tau":
            alive = [m for m in range(values.shape[1]) if collapsed.get(m) is None]
            ax.set_ylim(*_tau_limits(values[:, alive] if alive else values))
        time_axis(ax, t, log_time)
        ax.grid(alpha=0.3)
        if training:
            epoch_axis(ax, ds.isel(time=np.flatnonzero(reached)))
    ax_F = axes[0] if panels[0] == "eig_F" else None
    marks = []
    if ax_F is not None:
        for m, k in collapsed.items():
            if k is not None:
                y = max(eig_F[k, m], threshold) if log_y else eig_F[k, m]
                marks.append(collapse_marker(ax_F, t[k], y, colors[m], gid=f"collapse:{m}"))
        if log_y and eig_F.size:
            top = float(np.nanmax(eig_F[np.isfinite(eig_F)])) if np.isfinite(eig_F).any() else 1.0
            ax_F.set_yscale("log")
            ax_F.set_ylim(1e-2 * threshold, 2.0 * top)
    levels = closed_form_levels(ds) if has_theory_config(ds) else []
    level_lines = []
    for ax, name in zip(axes, panels):
        level_lines += draw_levels(ax, levels, name)
    _legend(fig, mode_lines, marks, level_lines, threshold)
    status = Status(int(ds["status"].values)) if "status" in ds else Status.ok
    header = run_header(ds)
    if status != Status.ok:
        t_stop = t[-1] if t.size else 0.0
        line = ""
        for ax in axes:
            line = mark_status(ax, status, t_stop)
        fig.suptitle(f"{header}\n{line}", color=STATUS_COLOR, fontsize=FONT["header"])
    else:
        fig.suptitle(header, fontsize=FONT["header"])
    fit_legends(fig)
    return fig


def _legend(fig: Figure, mode_lines: list, marks: list, level_lines: list, threshold: float) -> None:
    """One legend below the panels: the modes (all of them up to `MAX_LEGEND_MODES`, else the first and
    the last), the collapse mark and the levels."""
    handles = list(mode_lines)
    if len(handles) > MAX_LEGEND_MODES:
        handles = [handles[0], handles[-1]]
    if marks:
        handles.append(Line2D([], [], marker="X", ms=10, mfc="0.4", mec="white", mew=1.2, ls="none",
                              label=f"collapse ($\\lambda_m \\leq$ {threshold:.1e})"))
    handles += level_lines
    if not handles:
        return
    n_modes = min(len(mode_lines), MAX_LEGEND_MODES)
    ncol = min(max(n_modes, 1), 10) if len(handles) <= 12 else min(len(handles), 8)
    figure_legend(fig, handles, ncol=ncol, columnspacing=1.2, handlelength=1.8)
