"""Mechanism comparisons (issue 8, figure 4): the spectra of several runs side by side.

Euclidean vs cosine vs IsoLoss, stop-gradient ablations, closed-form predictors: one panel per run
(a row of panels per variable), shared axes, the levels of THEORY.md §5/§7/§8 (`closed_form_levels`)
as dashed (stable) or dotted (unstable) lines, and every run that did not finish ok framed in red.
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
from ._style import (STATUS_COLOR, SYMBOLS, collapse_index, collapse_threshold, draw_levels,
                     mark_status, mode_colors, subplots)

__all__ = ["plot_mechanism_comparison", "run_labels", "mode_values", "LABEL_KEYS"]

#: Settings that tell runs apart, in the order they appear in panel titles, with their short names.
LABEL_KEYS = {"loss": "loss", "predictor": "predictor", "stop_gradient": "sg", "expectation": "E",
              "target": "target", "model": "model", "predictor_alpha_effective": r"$\alpha$",
              "predictor_eps_effective": r"$\varepsilon$", "sigma2": r"$\sigma^2$", "eta": r"$\eta$",
              "beta": r"$\beta$", "alpha_p": r"$\alpha_p$", "tau0": r"$\tau_0$", "seed": "seed"}
#: Shown when nothing else differs (a single run, or identical settings).
_DEFAULT_KEYS = ("loss", "predictor", "stop_gradient")
#: Derived variables: the relative rate d log(lambda_m)/dt of eig(F).
DERIVED = ("relative_rate",)


def run_labels(datasets: Sequence[xr.Dataset]) -> list[str]:
    """A short label per run from the `LABEL_KEYS` attributes that differ between the runs (loss,
    predictor and stop-gradient when none differ), e.g. "loss=cosine, E=mean_field"."""
    def value(ds, key):
        v = ds.attrs.get(key, "?")
        return f"{v:g}" if isinstance(v, float) else str(v)

    keys = [k for k in LABEL_KEYS if len({value(ds, k) for ds in datasets}) > 1] or list(_DEFAULT_KEYS)
    return [", ".join(f"{LABEL_KEYS[k]}={value(ds, k)}" for k in keys if value(ds, k) != "unset")
            for ds in datasets]


def mode_values(ds: xr.Dataset, variable: str) -> tuple[np.ndarray, np.ndarray]:
    """(times, values[time, mode]) of `variable` at the computed times (`reached`). `relative_rate`
    is d log(eig_F)/dt by finite differences (`numpy.gradient`), NaN where a mode is at or below
    the collapse threshold."""
    reached = ds["reached"].values.astype(bool)
    t = ds["time"].values[reached]
    if variable == "relative_rate":
        lam = ds["eig_F"].values[reached]
        threshold = collapse_threshold(lam) if lam.size else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            logs = np.log(np.where(lam > threshold, lam, np.nan))
            rate = np.gradient(logs, t, axis=0) if t.size > 1 else np.full_like(lam, np.nan)
        return t, rate
    if variable not in ds or ds[variable].dims != ("time", "mode"):
        raise ValueError(f"variable {variable!r}: need a (time, mode) variable of the result (eig_F, eig_Wp, tau,"
                         f" p, s) or one of {', '.join(DERIVED)}")
    return t, ds[variable].values[reached]


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


def plot_mechanism_comparison(datasets: Mapping[str, xr.Dataset] | Sequence[xr.Dataset] | xr.Dataset,
                              variable: str | Sequence[str] = "eig_F", *, log_time: bool = True,
                              yscale: str = "auto", ncols: int | None = None, title: str | None = None) -> Figure:
    r"""Spectra of several runs over time, one panel per run, on shared axes.

    **Arguments:**

    - `datasets`: results of `dynamics.simulate`, as {label: Dataset} or a sequence (labels from
      the settings that differ, `run_labels`).
    - `variable`: "eig_F" ($\lambda_m$, eigenvalues of F = W X W^T), "eig_Wp", "tau", "p", "s" or
      "relative_rate" ($\dot\lambda_m/\lambda_m$); a sequence gives one row of panels per variable.
    - `log_time`: log time axis from the first positive saved time; `yscale`: "auto" (log for
      eig_F, linear otherwise), "log", "linear" or "symlog"; `ncols`: panels per row for a single
      variable (default: all runs in one row up to 4); `title`: figure title (default: the settings
      the runs share).

    **Returns:** a `Figure`. Each panel draws one line per mode at the computed times only; the
    levels of `closed_form_levels` as black dashed (stable) / dotted (unstable) lines, labelled with
    their value and THEORY.md equation; a cross where a mode fell below the collapse threshold
    (1e-6 of the largest initial eigenvalue; on a log axis, a grey dotted line marks it), after
    which that mode's other variables (eig_Wp, tau, rates) are not drawn; the
    outcome of `dynamics.results.spectrum_outcome` in the corner. A run whose `status` is not ok
    is framed in red on a tinted background, with a dotted line where it stopped and the status in
    its title; on a linear axis the shared y range is set by the runs that finished ok, so a
    diverging run leaves its panel instead of squashing the others.
    """
    items = _as_items(datasets)
    variables = [variable] if isinstance(variable, str) else list(variable)
    n = len(items)
    ncols = ncols or (n if len(variables) > 1 else min(n, 4))
    blocks = math.ceil(n / ncols)
    nrows = blocks * len(variables)
    fig, axes = subplots(nrows, ncols, figsize=(3.4 * ncols + 0.4, 2.9 * nrows + 0.5), sharex=True,
                             squeeze=False, constrained_layout=True)
    levels = [closed_form_levels(ds) for _, ds in items]
    any_ok = any(int(ds["status"].values) == Status.ok for _, ds in items)
    t_lo, t_hi = math.inf, -math.inf
    for v, var in enumerate(variables):
        panel_axes, lo, hi = [], math.inf, -math.inf
        for i, (label, ds) in enumerate(items):
            ax = axes[v * blocks + i // ncols, i % ncols]
            panel_axes.append(ax)
            t, values = mode_values(ds, var)
            colors = mode_colors(values.shape[1])
            eig_F = ds["eig_F"].values[ds["reached"].values.astype(bool)]
            threshold = collapse_threshold(eig_F) if eig_F.size else 0.0
            spectral = var in ("eig_F", "s")
            cut = [collapse_index(eig_F[:, m], threshold) if eig_F.size else None for m in range(values.shape[1])]
            if not spectral:  # after a collapse, p_m, tau_j and rates of that mode carry no information
                values = values.copy()
                for m, k in enumerate(cut):
                    if k is not None:
                        values[k + 1:, m] = np.nan
            for m in range(values.shape[1]):
                ax.plot(t, values[:, m], color=colors[m], lw=1.5, label=f"mode {m}")
            scale = _yscale(var, yscale)
            for m, k in enumerate(cut):
                if k is None:
                    continue
                finite_upto = np.flatnonzero(np.isfinite(values[: k + 1, m]))
                j = k if spectral or not finite_upto.size else int(finite_upto[-1])
                y = threshold if spectral else values[j, m]
                if np.isfinite(y):
                    ax.plot(t[j], y, "x", color=colors[m], ms=8, mew=2, gid=f"collapse:{m}", zorder=4)
            finite = values[np.isfinite(values)]
            if scale == "log":
                finite = finite[finite > 0]
                if var in ("eig_F", "s"):
                    ax.axhline(threshold, color="0.55", ls=(0, (1, 3)), lw=0.9, gid="collapse_threshold")
                    finite = np.append(finite[finite > 1e-2 * threshold], threshold)
            if finite.size and (int(ds["status"].values) == Status.ok or not any_ok or scale == "log"):
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))  # failed runs may clip
            drawn = draw_levels(ax, levels[i], var if var != "s" else "eig_F")
            for line in drawn:
                lo, hi = min(lo, line.get_ydata()[0]), max(hi, line.get_ydata()[0])
            if drawn:
                ax.legend(handles=drawn, fontsize=6.5, loc="best", framealpha=0.85)
            status = int(ds["status"].values)
            status_line = mark_status(ax, status, t[-1] if t.size else 0.0)
            outcome = spectrum_outcome(ds["eig_F"].values, status).label if eig_F.size else "no data"
            if v == 0:
                ax.text(0.02, 0.03, outcome, transform=ax.transAxes, fontsize=7.5, va="bottom",
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="0.7", alpha=0.85), gid="outcome")
            heading = label if v == 0 or blocks > 1 or len(variables) == 1 else ""
            if status != Status.ok:
                short = status_line.split(":")[0]
                ax.set_title(f"{heading}\n{short}" if heading else short, fontsize=8, color=STATUS_COLOR,
                             fontweight="bold")
            elif heading:
                ax.set_title(heading, fontsize=8)
            ax.set_yscale(scale)
            ax.grid(alpha=0.3)
            if i % ncols == 0:
                ax.set_ylabel(SYMBOLS.get(var, var), fontsize=8)
            positive = t[t > 0]
            if positive.size:
                t_lo, t_hi = min(t_lo, float(positive[0])), max(t_hi, float(positive[-1]))
        if math.isfinite(lo) and math.isfinite(hi):
            if _yscale(var, yscale) == "log":
                lo, hi = lo / 2.0, hi * 2.0
            else:
                pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
                lo, hi = lo - pad, hi + pad
            for ax in panel_axes:
                ax.set_ylim(lo, hi)
    if log_time and math.isfinite(t_lo):  # shared x: from the first positive saved time to the last
        for ax in axes.flat:
            ax.set_xscale("log", nonpositive="mask")
        axes[0, 0].set_xlim(t_lo, t_hi * 1.05)
    for k in range(n, blocks * ncols):  # unused cells of the last row of each block
        for v in range(len(variables)):
            axes[v * blocks + k // ncols, k % ncols].set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("flow time $t$")
    for c in range(ncols):  # the lowest visible panel of each column carries the time axis label
        visible = [axes[r, c] for r in range(nrows) if axes[r, c].get_visible()]
        if visible:
            visible[-1].set_xlabel("flow time $t$")
            visible[-1].xaxis.set_tick_params(labelbottom=True)
    first = axes[0, 0]
    n_modes = len([ln for ln in first.lines if ln.get_label().startswith("mode ")])
    if n_modes <= 8:
        handles = [ln for ln in first.lines if ln.get_label().startswith("mode ")]
        fig.legend(handles=handles, labels=[h.get_label() for h in handles], loc="outside lower center",
                   ncol=min(n_modes, 8), fontsize=7.5, frameon=False)
    fig.suptitle(title if title is not None else _shared_title([ds for _, ds in items]), fontsize=9)
    return fig


def _shared_title(datasets: list[xr.Dataset]) -> str:
    """The settings every run shares (model, data, rates), for the figure title."""
    keys = ("model", "target", "sigma2", "eta", "beta", "alpha_p", "loss", "predictor", "stop_gradient")
    parts = []
    for key in keys:
        values = {str(ds.attrs.get(key)) for ds in datasets}
        if len(values) == 1:
            parts.append(f"{LABEL_KEYS.get(key, key)}={values.pop()}")
    return ", ".join(parts)
