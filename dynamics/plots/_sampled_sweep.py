"""Sweeps of the sampled simulators (`dynamics.sweep.sweep_sampled`): final eigenvalues over one swept
axis, the mean over seeds with a band of one standard error."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..config import ConfigError
from ._runinfo import simulation_method
from ._style import FONT, figure_legend, fit_legends, mode_colors, subplots

__all__ = ["plot_sampled_sweep"]


def plot_sampled_sweep(ds: xr.Dataset, variable: str = "eig_F_final", *, x: str | None = None) -> Figure:
    """`variable` (default the final eigenvalues of F, per mode) over the swept axis `x` (default the
    first swept axis other than `seed`). With a `seed` axis the line is `<variable>_mean` and the band
    ± `<variable>_sem` (one standard error of the mean over the seeds); other swept axes are held at
    their first value (said under the title).

    **Raises:** `ConfigError` naming `x` or `variable`."""
    swept = ds.attrs.get("swept", "").split()
    others = [n for n in swept if n != "seed"]
    x = x or (others[0] if others else "seed")
    if x not in swept:
        raise ConfigError("x", x, f"must be a swept axis of the store: {', '.join(swept)}")
    summarize = "seed" in swept and x != "seed"
    if variable not in ds:
        raise ConfigError("variable", variable, "is not a variable of the store")
    mean = ds[f"{variable}_mean"] if summarize else ds[variable]
    sem = ds[f"{variable}_sem"] if summarize else None
    fixed = [n for n in mean.dims if n in swept and n != x]
    note = ", ".join(f"{n}={ds[n].values[0]}" for n in fixed)
    mean = mean.isel({n: 0 for n in fixed})
    sem = sem.isel({n: 0 for n in fixed}) if sem is not None else None
    xs = np.asarray(ds[x].values)
    numeric = np.issubdtype(xs.dtype, np.number)
    pos = xs.astype(float) if numeric else np.arange(xs.size)
    fig, axes = subplots(1, 1, figsize=(6.4, 4.6), squeeze=False)
    ax = axes[0, 0]
    modes = mean.sizes.get("mode", 1)
    colors = mode_colors(modes)
    for m in range(modes):
        y = np.asarray(mean.isel(mode=m).values if "mode" in mean.dims else mean.values, dtype=float)
        ax.plot(pos, y, "o-", color=colors[m], lw=1.5, ms=4, label=f"mode {m}" if "mode" in mean.dims else variable)
        if sem is not None:
            e = np.asarray(sem.isel(mode=m).values if "mode" in sem.dims else sem.values, dtype=float)
            ax.fill_between(pos, y - e, y + e, color=colors[m], alpha=0.25, lw=0)
    if not numeric:
        ax.set_xticks(pos, [str(v) for v in xs])
    elif np.all(pos > 0) and pos.max() / pos.min() > 20:
        ax.set_xscale("log")
    values = np.asarray(mean.values, dtype=float)
    if variable.startswith("eig_F") and np.all(values[np.isfinite(values)] > 0):
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(variable)
    ax.grid(alpha=0.3)
    method = simulation_method(ds) or "flow"
    band = f"; mean ± 1 s.e. over {ds.sizes['seed']} seeds" if summarize else ""
    ax.set_title(f"{method}: {variable} over {x}{band}" + (f"\n(at {note})" if note else ""), fontsize=FONT["small"])
    if "mode" in mean.dims and modes <= 10:
        figure_legend(fig, ncol=min(modes, 6))
    fit_legends(fig)
    return fig
