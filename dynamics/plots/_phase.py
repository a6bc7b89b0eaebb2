"""Phase diagrams of a sweep: outcome maps and final-value maps over two swept axes."""

from __future__ import annotations

import matplotlib
import matplotlib.patches  # noqa: F401
import numpy as np
import xarray as xr
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.figure import Figure
from ._style import subplots

__all__ = ["plot_outcome_map", "plot_final_map", "eta_threshold", "phase_axes", "OUTCOME_COLORS"]

# Okabe-Ito colours (colour-blind safe), one per `Outcome` code 0..5; `not_computed` (6) is drawn
# hatched on white (`NOT_COMPUTED_COLOR`), never as an outcome colour
OUTCOME_COLORS = ["#0072B2", "#009E73", "#56B4E9", "#E69F00", "#D55E00", "#000000"]
OUTCOME_NAMES = ["collapsed", "fixed point p*+", "non-collapsed", "not converged", "diverged", "failed"]
NOT_COMPUTED = 6  # `Outcome.not_computed`
NOT_COMPUTED_COLOR = "#ffffff"
NOT_COMPUTED_HATCH = "xxx"
SYMBOLS = {"beta": r"EMA rate $\beta$", "eta": r"weight decay $\eta$", "alpha_p": r"$\alpha_p$",
           "sigma2": r"$\sigma^2$", "eta_p": r"$\eta_p$", "tau0": r"$\tau_0$", "init_scale": "init scale"}


def eta_threshold(sigma2: float, tau: float = 1.0) -> float:
    r"""$\eta^* = \tau^2 / (4(1+\sigma^2))$ (T17): above it every mode collapses."""
    return tau**2 / (4.0 * (1.0 + sigma2))


def phase_axes(ds: xr.Dataset, x: str | None, y: str | None) -> tuple[str, str]:
    """The swept axes drawn along x and y (default: the first two swept axes).

    **Raises:** `ConfigError` when the sweep has fewer than two axes, `x` or `y` is not a swept axis,
    or both name the same axis.
    """
    from ..config import ConfigError

    swept = ds.attrs.get("swept", "").split()
    for name, value in (("x", x), ("y", y)):
        if value is not None and value not in swept:
            raise ConfigError(name, value, f"must be a swept axis of this sweep: {', '.join(swept)}")
    if len(swept) < 2:
        raise ConfigError("x", x, f"a phase diagram needs two swept axes; this sweep has {', '.join(swept) or 'none'}")
    x = x or next(n for n in swept if n != y)
    y = y or next(n for n in swept if n != x)
    if x == y:
        raise ConfigError("y", y, "must differ from x (a phase diagram needs two different axes)")
    return x, y


def _numeric(ds: xr.Dataset, name: str) -> bool:
    return np.issubdtype(ds[name].dtype, np.number)


def _positions(ds: xr.Dataset, name: str) -> np.ndarray:
    """Cell centres along an axis: its values, or 0, 1, ... for a categorical axis (names)."""
    return np.asarray(ds[name].values) if _numeric(ds, name) else np.arange(ds.sizes[name], dtype=float)


def _scale(ax, ds: xr.Dataset, name: str, which: str) -> None:
    if not _numeric(ds, name):  # a categorical axis: one tick per name
        labels = [str(v) for v in ds[name].values]
        (ax.set_xticks if which == "x" else ax.set_yticks)(np.arange(len(labels)), labels,
                                                           rotation=30 if which == "x" else 0, fontsize=8)
    else:
        values = np.asarray(ds[name].values, dtype=float)
        if values.size > 2 and np.all(values > 0) and values.max() / values.min() > 50:
            (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(SYMBOLS.get(name, name))


def _select(da: xr.DataArray, x: str, y: str, mode: int | None) -> xr.DataArray:
    others = [d for d in da.dims if d not in (x, y, "mode")]  # unshown axes: first value
    if others:
        da = da.isel({d: 0 for d in others})
    if mode is not None and "mode" in da.dims:
        da = da.sel(mode=mode)
    return da.transpose(y, x, *(["mode"] if "mode" in da.dims else []))


def _threshold_lines(ax, ds: xr.Dataset, x: str, y: str) -> None:
    if ds.attrs.get("data") != "isotropic" or "sigma2" in (x, y):
        return
    sigma2 = float(ds["sigma2"].values) if "sigma2" in ds.coords and ds["sigma2"].ndim == 0 else float(
        ds.attrs.get("sigma2", np.nan))
    eta_star = eta_threshold(sigma2)
    label = rf"$\eta^*=1/(4(1+\sigma^2))={eta_star:.4g}$ (T17)"
    if y == "eta":
        ax.axhline(eta_star, color="white", lw=2.2)
        ax.axhline(eta_star, color="black", ls="--", lw=1.2, label=label)
    elif x == "eta":
        ax.axvline(eta_star, color="white", lw=2.2)
        ax.axvline(eta_star, color="black", ls="--", lw=1.2, label=label)


def _mesh(ax, ds, x, y, values, **kwargs):
    return ax.pcolormesh(_positions(ds, x), _positions(ds, y), values, shading="nearest", **kwargs)


def _hatch_missing(ax, ds, x, y, missing: np.ndarray) -> None:
    """Draw the cells that were never computed (chunk not done) hatched on white."""
    if not missing.any():
        return
    shown = np.ma.masked_where(~missing, np.ones(missing.shape))
    # pcolor (one polygon per unmasked cell) draws hatches; pcolormesh does not
    cells = ax.pcolor(_positions(ds, x), _positions(ds, y), shown, shading="nearest",
                      cmap=ListedColormap([NOT_COMPUTED_COLOR]), vmin=0, vmax=2, edgecolors="#999999", linewidth=0.0)
    cells.set_hatch(NOT_COMPUTED_HATCH)


def _missing_note(ds: xr.Dataset) -> str:
    n = int(ds.attrs.get("not_computed", 0) or 0)
    return f"\nhatched: {n} cells not computed (chunk not done)" if n else ""


def plot_outcome_map(ds: xr.Dataset, *, x: str | None = None, y: str | None = None,
                     facet: str | None = None) -> Figure:
    """`outcome` per mode over two swept axes (one panel per mode) plus the number of surviving
    (non-collapsed) modes, with the analytic boundary eta* (T17) drawn over it; `facet` names a third
    swept axis to draw one row per value. Cells whose solver status is not ok show the outcome
    `diverged` or `failed`, never a silent value."""
    x, y = phase_axes(ds, x, y)
    rows = [None] if facet is None else list(range(ds.sizes[facet]))
    modes = ds.sizes.get("mode", 1)
    ncols = modes + 1
    fig, axes = subplots(len(rows), ncols, figsize=(3.3 * ncols, 3.2 * len(rows) + 0.4),
                             constrained_layout=True, squeeze=False)
    cmap = ListedColormap(OUTCOME_COLORS)
    norm = BoundaryNorm(np.arange(-0.5, 6.5), cmap.N)
    present: set[int] = set()
    for r, row in enumerate(rows):
        sub = ds if row is None else ds.isel({facet: row})
        outcome = _select(sub["outcome"], x, y, None)
        codes = np.asarray(outcome.values)
        missing = codes == NOT_COMPUTED
        present |= set(np.unique(codes).tolist())
        suffix = "" if row is None else f"\n{facet} = {_label(sub[facet].values.item())}"
        for m in range(modes):
            ax = axes[r, m]
            _mesh(ax, ds, x, y, np.ma.masked_where(missing[..., m], codes[..., m]), cmap=cmap, norm=norm)
            _hatch_missing(ax, ds, x, y, missing[..., m])
            _scale(ax, ds, x, "x")
            _scale(ax, ds, y, "y")
            _threshold_lines(ax, sub, x, y)
            ax.set_title(_mode_title(ds, m) + suffix, fontsize=9)
        alive = ((codes != 0) & (codes < 4)).sum(axis=-1).astype(float)
        alive = np.ma.masked_where(missing.any(axis=-1), alive)
        ax = axes[r, -1]
        im = _mesh(ax, ds, x, y, alive, cmap="viridis", vmin=0, vmax=modes)
        _hatch_missing(ax, ds, x, y, missing.any(axis=-1))
        _scale(ax, ds, x, "x")
        _scale(ax, ds, y, "y")
        _threshold_lines(ax, sub, x, y)
        ax.set_title("surviving modes" + suffix, fontsize=9)
        fig.colorbar(im, ax=ax, ticks=range(modes + 1))
    handles = [matplotlib.patches.Rectangle((0, 0), 1, 1, color=c) for c in OUTCOME_COLORS]
    handles.append(matplotlib.patches.Rectangle((0, 0), 1, 1, facecolor=NOT_COMPUTED_COLOR, edgecolor="#999999",
                                                hatch=NOT_COMPUTED_HATCH))
    names = OUTCOME_NAMES + ["not computed"]
    present_list = sorted(present)
    line_h, line_l = axes[0, 0].get_legend_handles_labels()
    fig.legend([handles[i] for i in present_list] + line_h, [names[i] for i in present_list] + line_l,
               loc="outside lower center", ncol=min(7, len(present_list) + 1), fontsize=8)
    fig.suptitle(_header(ds) + _missing_note(ds), fontsize=9)
    return fig


def _label(value) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else str(value)


def plot_final_map(ds: xr.Dataset, variable: str = "s_final", *, x: str | None = None, y: str | None = None,
                   log: bool = True) -> Figure:
    """A final value (e.g. `s_final`, `eig_F_final`, `p_final`, `time_to_converge`) per mode over two
    swept axes; cells whose status is not ok are masked (grey) rather than coloured."""
    x, y = phase_axes(ds, x, y)
    da = _select(ds[variable], x, y, None)
    status = _select(ds["mode_status"] if "mode_status" in ds else ds["status"], x, y, None)
    modes = da.sizes.get("mode", 1)
    fig, axes = subplots(1, modes, figsize=(3.4 * modes, 3.4), constrained_layout=True, squeeze=False)
    values = np.asarray(da.values, dtype=float)
    mask_status = np.asarray(status.values)
    if mask_status.ndim < values.ndim:
        mask_status = mask_status[..., None]
    mask_status = np.broadcast_to(mask_status, values.shape)
    missing = mask_status == -1  # `read_store`: a cell of a chunk that is not done
    values = np.where(mask_status == 0, values, np.nan)
    finite = values[np.isfinite(values) & (values > 0)] if log else values[np.isfinite(values)]
    norm, floor_note = None, ""
    if log and finite.size:
        lo = max(finite.min(), finite.max() * 1e-12)
        norm = LogNorm(vmin=lo, vmax=finite.max())
        # ok cells at or below the floor (collapsed modes, whose eigenvalues can be round-off <= 0)
        # take the floor's colour; only cells whose status is not ok stay grey
        values = np.where(np.isfinite(values), np.maximum(values, lo), np.nan)
        floor_note = f"; values <= {lo:.1e} drawn at the floor"
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#d9d9d9")
    im = None
    for m in range(modes):
        ax = axes[0, m]
        im = _mesh(ax, ds, x, y, values[..., m] if values.ndim == 3 else values, cmap=cmap, norm=norm)
        _hatch_missing(ax, ds, x, y, missing[..., m] if missing.ndim == 3 else missing)
        _scale(ax, ds, x, "x")
        _scale(ax, ds, y, "y")
        _threshold_lines(ax, ds, x, y)
        ax.set_title(_mode_title(ds, m), fontsize=9)
    fig.colorbar(im, ax=axes[0, -1], label=variable)
    fig.suptitle(f"{_header(ds)}\n{variable} (light grey: solver status not ok{floor_note}){_missing_note(ds)}",
                 fontsize=9)
    return fig


def _mode_title(ds: xr.Dataset, m: int) -> str:
    import json

    cfg = json.loads(ds.attrs.get("config_json", "{}"))
    if ds.attrs.get("model") == "modes" and cfg.get("s0") and cfg.get("p0"):
        return f"mode {m}: $p_0$={cfg['p0'][m]:.3g}, $s_0$={cfg['s0'][m]:.3g}"
    return f"mode {m}" + (" (rank of F)" if ds.attrs.get("model") == "full" else "")


def _header(ds: xr.Dataset) -> str:
    a = dict(ds.attrs)
    for name in a.get("swept", "").split():
        a[name] = "swept"
    return (f"{a.get('model')} model, target={a.get('target')}, predictor={a.get('predictor')}, "
            rf"$\sigma^2$={a.get('sigma2')}, $\alpha_p$={a.get('alpha_p')}, $\tau_0$={a.get('tau0')}, "
            rf"$\beta$={a.get('beta')}, $\eta$={a.get('eta')}, $t_{{max}}$={a.get('t_max')}")
