"""Mechanism comparisons (issue 8, figure 4): the spectra of several runs side by side.

Euclidean vs cosine vs IsoLoss, stop-gradient ablations, closed-form predictors, and training logs
beside the simulations of their theory: one panel per run (a row of panels per variable), shared
axes in flow time, the levels of THEORY.md §5/§7/§8 (`closed_form_levels`) as labelled dashed
(stable) or dotted (unstable) lines, and every run that did not finish ok framed in red.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..integrate import Status
from ..results import spectrum_outcome
from ._levels import closed_form_levels
from ._runinfo import SETTING_NAMES, epoch_axis, has_theory_config, is_training_log, run_settings
from ._style import (FONT, STATUS_COLOR, SYMBOLS, collapse_index, collapse_marker, collapse_threshold, draw_levels,
                     figure_legend, fit_legends, mark_status, mode_colors, set_symlog_time, subplots, wrap)

__all__ = ["plot_mechanism_comparison", "run_labels", "mode_values", "LABEL_KEYS", "SCALAR_VARIABLES",
           "shared_title"]

#: Settings that tell runs apart, in the order they appear in panel titles, with their short names.
LABEL_KEYS = SETTING_NAMES
#: Shown when nothing else differs (a single run, or identical settings).
_DEFAULT_KEYS = ("loss", "predictor", "stop_gradient")
#: Derived variables: the relative rate d log(lambda_m)/dt of eig(F).
DERIVED = ("relative_rate",)
#: Training predictors named as the simulator names the same thing (a linear Wp trained by gradient).
_CANONICAL_PREDICTOR = {"linear": "trained"}
#: Per-time scalars drawn as one line (simulations and training logs both record them).
SCALAR_VARIABLES = ("effective_rank", "kernel_entropy", "participation_ratio", "knn_accuracy", "loss")


def run_labels(datasets: Sequence[xr.Dataset]) -> list[str]:
    """A short label per run from the settings that differ between the runs (`run_settings`: loss,
    predictor and stop-gradient when none differ), e.g. "loss=cosine, E=mean_field"; a setting that
    does not apply to a run (β of a SimSiam target) is left out of its label. A training log is
    labelled "training" and a simulation "simulation" when both kinds are compared."""
    settings = [run_settings(ds) for ds in datasets]
    if len({s["source"] for s in settings}) > 1:  # training logs beside simulations
        labels = []
        for s in settings:
            if s["source"] == "training":
                labels.append(f"training: {s['method']}, {s['encoder']}, {s['dataset']}")
            else:
                labels.append(f"simulation: {s['encoder']} model")
        # then what differs among the runs that have the setting (the predictor in one vocabulary)
        canon = [{**s, "predictor": _CANONICAL_PREDICTOR.get(s["predictor"], s["predictor"])} for s in settings]
        skip = {"source", "method", "encoder", "dataset"}
        keys = [k for k in LABEL_KEYS if k not in skip and len({c[k] for c in canon if k in c}) > 1]
        return [label + "".join(f", {LABEL_KEYS[k]}={s[k]}" for k in keys if k in s)
                for label, s in zip(labels, settings)]
    if any("method" in s for s in settings):  # a sampled simulation beside flow runs: name every method
        settings = [{**s, "method": s.get("method", "flow")} for s in settings]
    keys = [k for k in LABEL_KEYS if len({s.get(k) for s in settings}) > 1] or list(_DEFAULT_KEYS)
    return [", ".join(f"{LABEL_KEYS[k]}={s[k]}" for k in keys if k in s) for s in settings]


def shared_title(datasets: Sequence[xr.Dataset]) -> str:
    """The settings every run shares and that apply to every run (no β when one run is SimSiam), for the
    figure title."""
    settings = [run_settings(ds) for ds in datasets]
    parts = []
    for key in ("source", "method", "encoder", "dataset", "target", "sigma2", "eta", "beta", "alpha_p", "loss",
                "predictor", "stop_gradient"):
        values = {s.get(key) for s in settings}
        if len(values) == 1 and None not in values:
            value = values.pop()
            if key == "source":
                parts.append(value)
            elif key == "encoder" and value in ("full", "modes"):
                parts.append(f"{value} model")
            else:
                parts.append(f"{LABEL_KEYS.get(key, key)}={value}")
    return ", ".join(parts)


def mode_values(ds: xr.Dataset, variable: str) -> tuple[np.ndarray, np.ndarray]:
    """(times, values[time, mode]) of `variable` at the computed times (`reached`). `relative_rate`
    is d log(eig_F)/dt by finite differences (`numpy.gradient`), NaN where a mode is at or below
    the collapse threshold; a per-time scalar (`SCALAR_VARIABLES`, e.g. `effective_rank`) is one column."""
    reached = ds["reached"].values.astype(bool) if "reached" in ds else np.ones(ds.sizes["time"], bool)
    t = np.asarray(ds["time"].values, dtype=float)[reached]
    if variable == "relative_rate":
        lam = ds["eig_F"].values[reached]
        threshold = collapse_threshold(lam) if lam.size else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            logs = np.log(np.where(lam > threshold, lam, np.nan))
            rate = np.gradient(logs, t, axis=0) if t.size > 1 else np.full_like(lam, np.nan)
        return t, rate
    if variable in ds and ds[variable].dims == ("time",):
        return t, np.asarray(ds[variable].values, dtype=float)[reached][:, None]
    if variable not in ds or ds[variable].dims != ("time", "mode"):
        raise ValueError(f"variable {variable!r}: need a (time, mode) variable of the result (eig_F, eig_Wp, tau,"
                         f" p, s), a per-time scalar ({', '.join(SCALAR_VARIABLES)}) or one of {', '.join(DERIVED)}")
    return t, np.asarray(ds[variable].values, dtype=float)[reached]


def _has(ds: xr.Dataset, variable: str) -> bool:
    if variable in DERIVED:
        return "eig_F" in ds
    return variable in ds and ds[variable].dims in (("time",), ("time", "mode"))


def _as_items(datasets) -> list[tuple[str, xr.Dataset]]:
    if isinstance(datasets, xr.Dataset):
        datasets = [datasets]
    if isinstance(datasets, Mapping):
        items = list(datasets.items())
    else:
        datasets = list(datasets)
        items = list(zip(run_labels(datasets), datasets))
    if not items:
        raise ValueError("plot_mechanism_comparison needs at least one dataset")
    return items


def _yscale(variable: str, yscale: str) -> str:
    if yscale != "auto":
        return yscale
    return "log" if variable == "eig_F" else "linear"


def _label_line(ax, line, text: str, *, left: bool = False) -> None:
    """Write `text` just above the right (or left) end of the horizontal `line` (a labelled reference line)."""
    y = float(line.get_ydata()[0])
    ax.annotate(text, xy=(0.015 if left else 0.985, y), xycoords=("axes fraction", "data"), xytext=(0, 2),
                textcoords="offset points", ha="left" if left else "right", va="bottom", fontsize=FONT["small"], color=line.get_color(), gid="level_label",
                annotation_clip=True,
                bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.75))


def _shared_time_axis(axes, runs_t: list[np.ndarray], log_time: bool) -> str:
    """One time scale for every panel: log from the first positive saved time, or symmetric-log (linear
    up to the first positive time) when a run saved from t = 0 has its first interval above 1e-3 of its
    length (a linear grid or a training log), so no run's start is hidden."""
    if not log_time:
        return "linear"
    firsts, lasts, start_visible = [], [], False
    for t in runs_t:
        t = t[np.isfinite(t)]
        positive = t[t > 0]
        if not positive.size:
            continue
        firsts.append(float(positive[0]))
        lasts.append(float(positive[-1]))
        if t.min() <= 0 and positive[0] > 1e-3 * positive[-1]:
            start_visible = True
    if not firsts:
        return "linear"
    lo, hi = min(firsts), max(lasts)
    for ax in axes.flat:
        if start_visible:
            set_symlog_time(ax, lo, hi)
        else:
            ax.set_xscale("log", nonpositive="mask")
    axes.flat[0].set_xlim(0.0 if start_visible else lo, hi * 1.05)
    return "symlog" if start_visible else "log"


def plot_mechanism_comparison(datasets: Mapping[str, xr.Dataset] | Sequence[xr.Dataset] | xr.Dataset,
                              variable: str | Sequence[str] = "eig_F", *, log_time: bool = True,
                              yscale: str = "auto", ncols: int | None = None, title: str | None = None) -> Figure:
    r"""Spectra of several runs over time, one panel per run, on shared axes.

    **Arguments:**

    - `datasets`: results of `dynamics.simulate` and/or training logs of `dynamics.bridge.train` (both
      on flow time), as {label: Dataset} or a sequence (labels from the settings that differ,
      `run_labels`).
    - `variable`: "eig_F" ($\lambda_m$, eigenvalues of F = W X W^T), "eig_Wp", "tau", "p", "s",
      "relative_rate" ($\dot\lambda_m/\lambda_m$) or a per-time scalar of `SCALAR_VARIABLES`
      ("effective_rank", "kernel_entropy", ...); a sequence gives one row of panels per variable. A run
      that lacks a variable gets an empty panel saying so.
    - `log_time`: log time axis (symmetric-log when a run saved from t = 0 would lose its start, see
      `_shared_time_axis`); `yscale`: "auto" (log for eig_F, linear otherwise), "log", "linear" or
      "symlog"; `ncols`: panels per row for a single variable (default: all runs in one row up to 4);
      `title`: figure title (default: the settings the runs share and that apply to all of them).

    **Returns:** a `Figure`. Each panel draws one line per mode at the computed times only; the
    levels of `closed_form_levels` (simulations only) as black dashed (stable) / dotted (unstable)
    lines, labelled at their right end with their value and THEORY.md equation; a cross where a mode fell
    below the collapse threshold (1e-6 of the largest initial eigenvalue; on a log axis a labelled grey
    dotted line marks it), after which that mode's other variables (eig_Wp, tau, rates) are not drawn;
    the outcome of `dynamics.results.spectrum_outcome` in the corner. A run whose `status` is not ok
    is framed in red on a tinted background, with a dotted line where it stopped and the status in its
    title; the y range of each row is set by the runs that finished ok (when there are any), so a
    diverging run leaves its panel instead of squashing the others. A training log gets an epoch axis
    on top of its first panel.
    """
    items = _as_items(datasets)
    variables = [variable] if isinstance(variable, str) else list(variable)
    for var in variables:
        if not any(_has(ds, var) for _, ds in items):
            mode_values(items[0][1], var)  # raises with the list of what can be drawn
    n = len(items)
    ncols = ncols or (n if len(variables) > 1 else min(n, 4))
    blocks = math.ceil(n / ncols)
    nrows = blocks * len(variables)
    fig, axes = subplots(nrows, ncols, figsize=(3.9 * ncols + 0.5, 3.2 * nrows + 1.0), sharex=True,
                         squeeze=False, constrained_layout=True)
    levels = [closed_form_levels(ds) if has_theory_config(ds) else [] for _, ds in items]
    status_of = [int(ds["status"].values) if "status" in ds else int(Status.ok) for _, ds in items]
    any_ok = any(s == Status.ok for s in status_of)
    times = []
    max_modes = 0
    for v, var in enumerate(variables):
        panel_axes, lo, hi = [], math.inf, -math.inf
        for i, (label, ds) in enumerate(items):
            ax = axes[v * blocks + i // ncols, i % ncols]
            panel_axes.append(ax)
            status = status_of[i]
            heading = wrap(label, 46) if v == 0 or blocks > 1 or len(variables) == 1 else ""
            if not _has(ds, var):
                ax.text(0.5, 0.5, f"{var}\nnot recorded in this run", ha="center", va="center",
                        transform=ax.transAxes, fontsize=FONT["small"], color="0.4")
                ax.set_yticks([])
                if heading:
                    ax.set_title(heading, fontsize=FONT["small"])
                if i % ncols == 0:
                    ax.set_ylabel(SYMBOLS.get(var, var), fontsize=FONT["small"])
                continue
            t, values = mode_values(ds, var)
            times.append(t)
            scalar = var in ds and ds[var].dims == ("time",)
            colors = mode_colors(values.shape[1]) if not scalar else ["#333333"]
            max_modes = max(max_modes, values.shape[1] if not scalar else 0)
            reached = ds["reached"].values.astype(bool) if "reached" in ds else np.ones(ds.sizes["time"], bool)
            eig_F = ds["eig_F"].values[reached] if "eig_F" in ds else np.empty((0, 0))
            threshold = collapse_threshold(eig_F) if eig_F.size else 0.0
            spectral = var in ("eig_F", "s")
            cut = [collapse_index(eig_F[:, m], threshold) if eig_F.size and not scalar else None
                   for m in range(values.shape[1])]
            if not spectral:  # after a collapse, p_m, tau_j and rates of that mode carry no information
                values = values.copy()
                for m, k in enumerate(cut):
                    if k is not None:
                        values[k + 1:, m] = np.nan
            for m in range(values.shape[1]):
                ax.plot(t, values[:, m], color=colors[m], lw=1.5, label=f"mode {m}" if not scalar else var)
            scale = _yscale(var, yscale)
            for m, k in enumerate(cut):
                if k is None:
                    continue
                finite_upto = np.flatnonzero(np.isfinite(values[: k + 1, m]))
                j = k if spectral or not finite_upto.size else int(finite_upto[-1])
                y = threshold if spectral else values[j, m]
                if np.isfinite(y):
                    collapse_marker(ax, t[j], y, colors[m], gid=f"collapse:{m}")
            finite = values[np.isfinite(values)]
            if scale == "log":
                finite = finite[finite > 0]
                if spectral and threshold > 0:
                    line = ax.axhline(threshold, color="0.45", ls=(0, (1, 3)), lw=1.0, gid="collapse_threshold")
                    _label_line(ax, line, f"collapse threshold {threshold:.0e}", left=True)
                    finite = np.append(finite[finite > 1e-2 * threshold], threshold)
            if finite.size and (status == Status.ok or not any_ok):
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))  # failed runs may clip
            drawn = draw_levels(ax, levels[i], var if var != "s" else "eig_F")
            for line in drawn:
                if status == Status.ok or not any_ok:  # a failed run's levels do not set the range either
                    lo, hi = min(lo, line.get_ydata()[0]), max(hi, line.get_ydata()[0])
                _label_line(ax, line, line.get_label())
            status_line = mark_status(ax, status, t[-1] if t.size else 0.0)
            if v == 0 and "eig_F" in ds:
                outcome = spectrum_outcome(ds["eig_F"].values, status).label if eig_F.size else "no data"
                ax.text(0.02, 0.03, outcome, transform=ax.transAxes, fontsize=FONT["small"], va="bottom",
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="0.7", alpha=0.85), gid="outcome")
            if status != Status.ok:
                short = status_line.split(":")[0]
                ax.set_title(f"{heading}\n{short}" if heading else short, fontsize=FONT["small"],
                             color=STATUS_COLOR, fontweight="bold")
            elif heading:
                ax.set_title(heading, fontsize=FONT["small"])
            ax.set_yscale(scale)
            ax.grid(alpha=0.3)
            if i % ncols == 0:
                ax.set_ylabel(SYMBOLS.get(var, var), fontsize=FONT["small"])
        if math.isfinite(lo) and math.isfinite(hi):
            if _yscale(var, yscale) == "log":
                lo, hi = lo / 2.0, hi * 2.0
            else:
                pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
                lo, hi = lo - pad, hi + pad
            for ax in panel_axes:
                if ax.lines:
                    ax.set_ylim(lo, hi)
    _shared_time_axis(axes, times, log_time)
    for k in range(n, blocks * ncols):  # unused cells of the last row of each block
        for v in range(len(variables)):
            axes[v * blocks + k // ncols, k % ncols].set_visible(False)
    for c in range(ncols):  # the lowest visible panel of each column carries the time axis label
        visible = [axes[r, c] for r in range(nrows) if axes[r, c].get_visible()]
        if visible:
            visible[-1].set_xlabel("flow time $t$")
            visible[-1].xaxis.set_tick_params(labelbottom=True)
    for i, (_, ds) in enumerate(items):  # epochs of a training log on top of its first panel
        if is_training_log(ds):
            reached = ds["reached"].values.astype(bool) if "reached" in ds else np.ones(ds.sizes["time"], bool)
            epoch_axis(axes[i // ncols, i % ncols], ds.isel(time=np.flatnonzero(reached)))
    if 0 < max_modes <= 10:
        colors = mode_colors(max_modes)
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=colors[m], lw=1.5, label=f"mode {m}") for m in range(max_modes)]
        figure_legend(fig, handles, ncol=min(max_modes, 10))
    fig.suptitle(title if title is not None else shared_title([ds for _, ds in items]), fontsize=FONT["header"])
    fit_legends(fig)
    return fig
