r"""Phase diagrams of a sweep: outcome maps, surviving-mode counts and final-value maps over two swept
axes, with the analytic boundaries of (T17) drawn over them; sweeps with one axis (and seeds) as lines.

Analytic boundaries (isotropic data, the eigenmode model with a trained predictor, stop-gradient on
the target, Euclidean loss; THEORY.md §5): on the parabola s = p²/α_p a mode started at p0 survives iff
p0 > p*₋ of (T17), p*₋ = [τ − sqrt(τ² − 4η(1+σ²))] / (2(1+σ²)). At τ = 1 (SimSiam; an EMA target at
large β) its edge in η is therefore η = p0(1 − (1+σ²)p0) for p0 < 1/(2(1+σ²)), and η* = 1/(4(1+σ²))
for larger p0, above which every mode collapses.

Length: over 400 lines on purpose: the cell edges, the analytic (T17) boundaries and the two map kinds
(outcome, final value) share their axis handling; split them when a third kind of map arrives.
"""

from __future__ import annotations

import json
import warnings
from typing import Callable

import matplotlib
import matplotlib.patches  # noqa: F401
import matplotlib.ticker
import numpy as np
import xarray as xr
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ._style import FONT, figure_legend, fit_legends, mode_colors, subplots

__all__ = ["plot_outcome_map", "plot_final_map", "eta_threshold", "phase_axes", "OUTCOME_COLORS",
           "survival_edges", "axis_edges", "VALUE_LABELS"]

# Okabe-Ito colours (colour-blind safe), one per `Outcome` code 0..5; `not_computed` (6) is drawn
# hatched on white (`NOT_COMPUTED_COLOR`), never as an outcome colour
OUTCOME_COLORS = ["#0072B2", "#009E73", "#56B4E9", "#E69F00", "#D55E00", "#000000"]
OUTCOME_NAMES = ["collapsed", r"fixed point $p^*_+$", "alive, elsewhere", "still moving at $t_{max}$",
                 "diverged", "solver failed"]
NOT_COMPUTED = 6  # `Outcome.not_computed`
NOT_COMPUTED_COLOR = "#ffffff"
NOT_COMPUTED_HATCH = "xxx"
NOT_CONVERGED_COLOR = "#f6d5d5"
NOT_CONVERGED_HATCH = "///"
COLLAPSED_COLOR = "#ffffff"
STATUS_BAD_COLOR = "#bdbdbd"
SYMBOLS = {"beta": r"EMA rate $\beta$", "eta": r"weight decay $\eta$", "alpha_p": r"$\alpha_p$",
           "sigma2": r"$\sigma^2$", "eta_p": r"$\eta_p$", "tau0": r"$\tau_0$", "init_scale": "init scale",
           "seed": "seed"}
#: Colour-bar labels of the final-value maps.
VALUE_LABELS = {"s_final": r"$s_j$ at $t_{max}$", "eig_F_final": r"$\lambda_m$ of $F$ at $t_{max}$",
                "p_final": r"$p_j$ at $t_{max}$", "tau_final": r"$\tau_j$ at $t_{max}$",
                "eig_Wp_final": r"$p_m$ of $W_p$ at $t_{max}$",
                "time_to_converge": "time to converge\n(within 1% of the final value from then on)"}
SEED = "seed"
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")


def eta_threshold(sigma2: float, tau: float = 1.0) -> float:
    r"""$\eta^* = \tau^2 / (4(1+\sigma^2))$ (T17): above it every mode collapses."""
    return tau**2 / (4.0 * (1.0 + sigma2))


def _swept(ds: xr.Dataset) -> list[str]:
    return ds.attrs.get("swept", "").split()


def phase_axes(ds: xr.Dataset, x: str | None, y: str | None) -> tuple[str, str | None]:
    """The swept axes drawn along x and y. Defaults: the first two swept axes other than `seed` (a
    seed axis is averaged over, not drawn, unless named); y is None when only one such axis remains
    (the figure is then a line plot over x, with a band over the seeds).

    **Raises:** `ConfigError` when the sweep has no axis to draw, `x` or `y` is not a swept axis,
    or both name the same axis.
    """
    from ..config import ConfigError

    swept = _swept(ds)
    for name, value in (("x", x), ("y", y)):
        if value is not None and value not in swept:
            raise ConfigError(name, value, f"must be a swept axis of this sweep: {', '.join(swept)}")
    if x is not None and x == y:
        raise ConfigError("y", y, "must differ from x (a phase diagram needs two different axes)")
    drawable = [n for n in swept if n != SEED] or list(swept)
    if not swept or (len(swept) < 2 and (y is not None or not drawable)):
        raise ConfigError("x", x, f"a phase diagram needs two swept axes; this sweep has {', '.join(swept) or 'none'}")
    x = x or next((n for n in drawable if n != y), None) or next(n for n in swept if n != y)
    if y is None:
        y = next((n for n in drawable if n != x), None)
    if x == y:
        raise ConfigError("y", y, "must differ from x (a phase diagram needs two different axes)")
    return x, y


def _numeric(ds: xr.Dataset, name: str) -> bool:
    return np.issubdtype(ds[name].dtype, np.number)


def _log_axis(ds: xr.Dataset, name: str) -> bool:
    if not _numeric(ds, name):
        return False
    values = np.asarray(ds[name].values, dtype=float)
    return bool(values.size > 2 and np.all(values > 0) and values.max() / values.min() > 50)


def axis_edges(ds: xr.Dataset, name: str, breaks: tuple[float, ...] = ()) -> np.ndarray:
    """Cell edges along a swept axis: half-way between neighbouring values (geometrically on a log
    axis), the outer cells as wide as their neighbours; 0, 1, ... ± 0.5 for a categorical axis. An
    analytic boundary of `breaks` that falls between two neighbouring values becomes the edge between
    their cells, so a cell on one side of the boundary is never drawn across it."""
    if not _numeric(ds, name):
        return np.arange(ds.sizes[name] + 1, dtype=float) - 0.5
    c = np.asarray(ds[name].values, dtype=float)
    log = _log_axis(ds, name)
    if c.size == 1:
        return c[0] * np.array([0.8, 1.25]) if c[0] > 0 else c[0] + np.array([-0.5, 0.5])
    u = np.log10(c) if log else c
    mids = 0.5 * (u[1:] + u[:-1])
    edges = np.concatenate([[u[0] - 0.5 * (u[1] - u[0])], mids, [u[-1] + 0.5 * (u[-1] - u[-2])]])
    edges = 10.0**edges if log else edges
    for b in breaks:
        k = int(np.searchsorted(c, b))
        if 0 < k < c.size and c[k - 1] < b < c[k]:
            edges[k] = b
    return edges


def _scale(ax, ds: xr.Dataset, name: str, which: str) -> None:
    if not _numeric(ds, name):  # a categorical axis: one tick per name
        labels = [str(v) for v in ds[name].values]
        (ax.set_xticks if which == "x" else ax.set_yticks)(np.arange(len(labels)), labels,
                                                           rotation=30 if which == "x" else 0,
                                                           fontsize=FONT["small"])
    elif _log_axis(ds, name):
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(SYMBOLS.get(name, name), fontsize=FONT["normal"])
    edges = axis_edges(ds, name)
    (ax.set_xlim if which == "x" else ax.set_ylim)(edges[0], edges[-1])


def _sorted(ds: xr.Dataset) -> xr.Dataset:
    """Numeric swept axes in increasing order (a `list:` axis may be given in any order)."""
    for name in _swept(ds):
        if name in ds.dims and _numeric(ds, name):
            values = np.asarray(ds[name].values, dtype=float)
            if values.size > 1 and np.any(np.diff(values) <= 0):
                ds = ds.sortby(name)
    return ds


def _fix_others(ds: xr.Dataset, keep: tuple[str, ...]) -> tuple[xr.Dataset, str]:
    """`ds` at the first value of every swept axis not in `keep` (and not `seed`), with a note naming them."""
    fixed = {d: 0 for d in _swept(ds) if d not in keep and d != SEED and d in ds.dims}
    note = ", ".join(f"{SYMBOLS.get(d, d)} = {_label(ds[d].values[0])} (first of {ds.sizes[d]})" for d in fixed)
    return (ds.isel(fixed) if fixed else ds), (f"shown at {note}" if note else "")


def _select(da: xr.DataArray, x: str, y: str, mode: int | None = None) -> xr.DataArray:
    """`da` as (y, x[, mode]); other swept axes at their first value (seeds: see the callers)."""
    others = [d for d in da.dims if d not in (x, y, "mode")]
    if others:
        da = da.isel({d: 0 for d in others})
    if mode is not None and "mode" in da.dims:
        da = da.sel(mode=mode)
    return da.transpose(y, x, *(["mode"] if "mode" in da.dims else []))


def _sigma2(ds: xr.Dataset) -> float:
    if "sigma2" in ds.coords and ds["sigma2"].ndim == 0:
        return float(ds["sigma2"].values)
    return float(ds.attrs.get("sigma2", np.nan))


def _config(ds: xr.Dataset) -> dict:
    try:
        return json.loads(ds.attrs.get("config_json", "{}"))
    except (TypeError, ValueError):
        return {}


def survival_edges(ds: xr.Dataset) -> list[float] | None:
    r"""Per mode, the weight decay above which the mode collapses at τ = 1 (T17): p*₋(η) = p0, i.e.
    η = p0(1 − (1+σ²)p0) for p0 < 1/(2(1+σ²)), else η* = 1/(4(1+σ²)) (0 for p0 ≤ 0).

    None where (T17) does not describe the sweep: not the eigenmode model, non-isotropic data, a
    predictor other than the trained one, another stop-gradient or loss, a separate η_p, σ² or α_p
    swept (the edge then moves along the other axis), or starts off the parabola s0 = p0²/α_p.
    With an EMA target the edges hold at large β (τ → 1)."""
    a = ds.attrs
    swept = _swept(ds)
    cfg = _config(ds)
    if (a.get("model") != "modes" or a.get("data") != "isotropic" or a.get("predictor") not in ("trained", "symmetric")
            or a.get("stop_gradient") != "target" or a.get("loss", "euclidean") != "euclidean"
            or cfg.get("eta_p") is not None or "eta_p" in swept or "sigma2" in swept or "alpha_p" in swept
            or a.get("target") not in ("ema", "online")):
        return None
    p0, s0 = cfg.get("p0"), cfg.get("s0")
    if not p0 or not s0 or len(p0) != ds.sizes.get("mode", 0):
        return None
    p0, s0 = np.asarray(p0, dtype=float), np.asarray(s0, dtype=float)
    alpha_p = float(a.get("alpha_p", 1.0))
    if not np.allclose(s0 * alpha_p, p0**2, rtol=1e-6, atol=1e-15):
        return None
    lam = 1.0 + _sigma2(ds)
    star = eta_threshold(lam - 1.0)
    return [0.0 if p <= 0 else (p * (1.0 - lam * p) if p < 0.5 / lam else star) for p in p0]


def _eta_lines(ds: xr.Dataset, x: str, y: str) -> tuple[float | None, list[float] | None]:
    """(η*, per-mode edges) where they can be drawn as straight lines on this pair of axes."""
    if ds.attrs.get("data") != "isotropic" or "sigma2" in (x, y) or "eta" not in (x, y):
        return None, None
    if _numeric(ds, "eta") is False:
        return None, None
    return eta_threshold(_sigma2(ds)), survival_edges(ds)


def _hline(ax, x: str, value: float, **kw):
    """A line at eta = value across the panel (horizontal when eta is on y, vertical on x)."""
    return (ax.axhline if x != "eta" else ax.axvline)(value, **kw)


def _draw_eta_star(ax, x: str, eta_star: float | None) -> list:
    if eta_star is None:
        return []
    _hline(ax, x, eta_star, color="white", lw=2.6, zorder=3)
    return [_hline(ax, x, eta_star, color="black", ls="--", lw=1.3, zorder=3.1, gid="eta_star",
                   label=rf"$\eta^*=1/(4(1+\sigma^2))$ = {eta_star:.4g} (T17)")]


def _edge_label(ds: xr.Dataset) -> str:
    large = " (large $\\beta$)" if ds.attrs.get("target") == "ema" else ""
    return rf"survival edge $p^*_-(\eta, \tau{{=}}1) = p_0$ (T17){large}"


def _draw_edge(ax, x: str, value: float, label: str, m: int):
    _hline(ax, x, value, color="white", lw=2.6, zorder=3)
    return _hline(ax, x, value, color="#CC0000", ls=(0, (4, 1.5, 1, 1.5)), lw=1.4, zorder=3.1,
                  gid=f"survival_edge:{m}", label=label)


def _mode_cell_edges(ds: xr.Dataset, x: str, y: str, breaks: tuple, edges, eta_star: float | None, m: int):
    """Cell edges of mode m's panel: the eta axis also breaks at the mode's survival edge (T17) when it
    lies below eta*, so that no cell straddles an analytic line."""
    mode_breaks = breaks + ((edges[m],) if edges and 0 < edges[m] < (eta_star or np.inf) else ())
    return (axis_edges(ds, x, mode_breaks if x == "eta" else ()),
            axis_edges(ds, y, mode_breaks if y == "eta" else ()))


def _draw_mode_lines(ax, ds: xr.Dataset, x: str, eta_star: float | None, edges, m: int, handles: dict) -> None:
    """eta* and mode m's survival edge (when below eta*) on one panel; their legend handles into `handles`."""
    lines = _draw_eta_star(ax, x, eta_star)
    if edges and eta_star is not None and 0 < edges[m] < eta_star:
        lines.append(_draw_edge(ax, x, edges[m], _edge_label(ds), m))
    for line in lines:
        handles.setdefault(line.get_label(), line)


def _hatch(ax, xe, ye, where: np.ndarray, color: str, hatch: str, edge: str = "#999999"):
    """Hatch the cells where `where` is True (pcolor draws hatches; pcolormesh does not)."""
    if not where.any():
        return None
    shown = np.ma.masked_where(~where, np.ones(where.shape))
    cells = ax.pcolor(xe, ye, shown, cmap=ListedColormap([color]), vmin=0, vmax=2, edgecolors=edge, linewidth=0.0)
    cells.set_hatch(hatch)
    return cells


def _mesh(ax, xe, ye, values, **kwargs):
    """One coloured cell per grid point, between the edges `xe`, `ye`; thin white rims between the
    cells of a grid small enough for them to show."""
    if max(len(xe), len(ye)) <= 41:
        kwargs.setdefault("edgecolors", (1.0, 1.0, 1.0, 0.55))
        kwargs.setdefault("linewidth", 0.4)
    return ax.pcolormesh(xe, ye, values, shading="flat", **kwargs)


def _seed_note(ds: xr.Dataset, how: str) -> str:
    if SEED in _swept(ds) and SEED in ds.dims:
        return f"{how} over {ds.sizes[SEED]} seeds"
    return ""


def _majority(codes: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(most frequent value along `axis`, whether the values along `axis` disagree)."""
    codes = np.moveaxis(codes, axis, 0)
    values = np.unique(codes)
    counts = np.stack([(codes == v).sum(axis=0) for v in values])
    return values[np.argmax(counts, axis=0)], (codes != codes[0]).any(axis=0)


def _missing_note(ds: xr.Dataset) -> str:
    n = int(ds.attrs.get("not_computed", 0) or 0)
    return f"\nhatched: {n} cells not computed (sweep interrupted; sweep --resume computes them)" if n else ""


def _grid(ncols_total: int, nrows: int, facet: bool) -> tuple[int, int]:
    if facet or ncols_total <= 5:
        return nrows, ncols_total
    cols = 5
    return nrows * int(np.ceil(ncols_total / cols)), cols


def plot_outcome_map(ds: xr.Dataset, *, x: str | None = None, y: str | None = None,
                     facet: str | None = None) -> Figure:
    """`outcome` per mode over two swept axes (one panel per mode) plus the number of surviving
    (non-collapsed) modes on a discrete colour bar, with the analytic boundaries drawn over them:
    η* = 1/(4(1+σ²)) (T17) and, per mode, its survival edge p*₋(η, τ=1) = p0 (`survival_edges`).
    Cells are drawn between edges half-way between the swept values, with an analytic boundary as the
    edge where it falls between two values (`axis_edges`). `facet` names a third swept axis to draw one
    row per value. A seed axis is summarized: each cell shows the most frequent outcome (count) over
    the seeds, with a dot where the seeds disagree. Cells whose solver status is not ok show the
    outcome `diverged` or `failed`, never a silent value; cells never computed are hatched. A sweep with
    a single axis (besides seeds) is drawn as lines (`_plot_outcome_lines`)."""
    x, y = phase_axes(ds, x, y)
    ds = _sorted(ds)
    if y is None:
        return _plot_outcome_lines(ds, x)
    rows = [None] if facet is None else list(range(ds.sizes[facet]))
    modes = ds.sizes.get("mode", 1)
    nrows, ncols = _grid(modes + 1, len(rows), facet is not None)
    per_row = ncols if facet is not None else None
    fig, axes = subplots(nrows, ncols, figsize=(3.5 * ncols + 0.6, 3.3 * nrows + 1.2),
                         constrained_layout=True, squeeze=False)
    flat = list(axes.flat)
    cmap = ListedColormap(OUTCOME_COLORS)
    norm = BoundaryNorm(np.arange(-0.5, 6.5), cmap.N)
    count_cmap = ListedColormap(list(matplotlib.colormaps["viridis"](np.linspace(0.0, 1.0, modes + 1))))
    count_norm = BoundaryNorm(np.arange(-0.5, modes + 1.5), count_cmap.N)
    present: set[int] = set()
    any_disagree = False
    extra_handles: dict[str, object] = {}
    used = 0
    for r, row in enumerate(rows):
        sub = ds if row is None else ds.isel({facet: row})
        sub, fixed_note = _fix_others(sub, (x, y) + ((facet,) if facet else ()))
        eta_star, edges = _eta_lines(sub, x, y)
        breaks = (eta_star,) if eta_star is not None else ()
        xe = axis_edges(sub, x, breaks if x == "eta" else ())
        ye = axis_edges(sub, y, breaks if y == "eta" else ())
        outcome = sub["outcome"]
        if SEED in outcome.dims:
            codes, disagree = _majority(np.asarray(outcome.transpose(SEED, y, x, "mode").values), 0)
        else:
            codes = np.asarray(_select(outcome, x, y).values)
            disagree = np.zeros(codes.shape, bool)
        missing = codes == NOT_COMPUTED
        present |= set(np.unique(codes).tolist())
        suffix = "" if row is None else f"\n{facet} = {_label(sub[facet].values.item())}"
        for m in range(modes):
            ax = flat[used + m] if per_row is None else axes[r, m]
            mxe, mye = _mode_cell_edges(sub, x, y, breaks, edges, eta_star, m)
            _mesh(ax, mxe, mye, np.ma.masked_where(missing[..., m], codes[..., m]), cmap=cmap, norm=norm)
            _hatch(ax, mxe, mye, missing[..., m], NOT_COMPUTED_COLOR, NOT_COMPUTED_HATCH)
            any_disagree |= _dots(ax, sub, x, y, disagree[..., m])
            _scale(ax, sub, x, "x")
            _scale(ax, sub, y, "y")
            _draw_mode_lines(ax, sub, x, eta_star, edges, m, extra_handles)
            ax.set_title(_mode_title(ds, m) + suffix, fontsize=FONT["small"])
        alive = ((codes != 0) & (codes < 4)).sum(axis=-1)
        if SEED in outcome.dims:
            per_seed = np.asarray(outcome.transpose(SEED, y, x, "mode").values)
            counts = ((per_seed != 0) & (per_seed < 4)).sum(axis=-1)
            alive, alive_disagree = _majority(counts, 0)
        else:
            alive_disagree = np.zeros(alive.shape, bool)
        alive = np.ma.masked_where(missing.any(axis=-1), alive.astype(float))
        ax = flat[used + modes] if per_row is None else axes[r, modes]
        im = _mesh(ax, xe, ye, alive, cmap=count_cmap, norm=count_norm)
        _hatch(ax, xe, ye, missing.any(axis=-1), NOT_COMPUTED_COLOR, NOT_COMPUTED_HATCH)
        any_disagree |= _dots(ax, sub, x, y, alive_disagree)
        _scale(ax, sub, x, "x")
        _scale(ax, sub, y, "y")
        _draw_eta_star(ax, x, eta_star)
        for m, e in enumerate(edges or []):
            if 0 < e < eta_star:
                _draw_edge(ax, x, e, _edge_label(sub), m)
        ax.set_title("surviving modes" + suffix, fontsize=FONT["small"])
        cbar = fig.colorbar(im, ax=ax, ticks=np.arange(modes + 1), boundaries=np.arange(-0.5, modes + 1.5))
        cbar.set_label("surviving modes", fontsize=FONT["small"])
        cbar.ax.tick_params(labelsize=FONT["small"], length=0)
        cbar.ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%d"))
        used += modes + 1
    for ax in flat[used if per_row is None else len(flat):]:
        ax.set_visible(False)
    handles = [matplotlib.patches.Rectangle((0, 0), 1, 1, color=c) for c in OUTCOME_COLORS]
    handles.append(matplotlib.patches.Rectangle((0, 0), 1, 1, facecolor=NOT_COMPUTED_COLOR, edgecolor="#999999",
                                                hatch=NOT_COMPUTED_HATCH))
    names = OUTCOME_NAMES + ["not computed"]
    present_list = sorted(present)
    legend_h = [handles[i] for i in present_list] + list(extra_handles.values())
    legend_l = [names[i] for i in present_list] + list(extra_handles.keys())
    if any_disagree:
        legend_h.append(Line2D([], [], marker="o", ms=4, color="white", mec="black", ls="none"))
        legend_l.append("seeds disagree (majority shown)")
    figure_legend(fig, legend_h, legend_l, ncol=4)
    notes = [n for n in (_seed_note(ds, "most frequent outcome"), fixed_note) if n]
    fig.suptitle(_header(ds) + ("\n" + "; ".join(notes) if notes else "") + _missing_note(ds),
                 fontsize=FONT["header"])
    fit_legends(fig)
    return fig


def _dots(ax, ds: xr.Dataset, x: str, y: str, where: np.ndarray) -> bool:
    """A small open dot on the cells where the seeds disagree."""
    if not where.any():
        return False
    xs, ys = _centres(ds, x), _centres(ds, y)
    yy, xx = np.nonzero(where)
    ax.plot(xs[xx], ys[yy], "o", ms=3, mfc="white", mec="black", mew=0.6, ls="none", gid="seeds_disagree",
            zorder=4)
    return True


def _centres(ds: xr.Dataset, name: str) -> np.ndarray:
    return np.asarray(ds[name].values, dtype=float) if _numeric(ds, name) else np.arange(ds.sizes[name], dtype=float)


def _label(value) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float, np.integer, np.floating)) else str(value)


def _collapsed_cells(ds: xr.Dataset, variable: str, values: np.ndarray, outcome: np.ndarray | None) -> np.ndarray:
    """Where a mode collapsed: its outcome, or (no outcome) a value at or below the collapse threshold."""
    if outcome is not None:
        return outcome == 0
    threshold = json.loads(ds.attrs.get("outcome_thresholds", "{}") or "{}").get("collapse_s", 1e-6)
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values <= threshold)


def plot_final_map(ds: xr.Dataset, variable: str = "s_final", *, x: str | None = None, y: str | None = None,
                   log: bool = True) -> Figure:
    """A final value (e.g. `s_final`, `eig_F_final`, `p_final`, `time_to_converge`) per mode over two
    swept axes, with the analytic boundaries of `plot_outcome_map`.

    The colour scale covers the modes that survive: a collapsed mode's final value (1e-6 and below,
    round-off) is drawn in white below the scale (the colour bar's lower end), not at a floor that
    would take up most of a log scale; for `time_to_converge` every value is on the scale and the
    cells of modes still moving at t_max are hatched ("never converged", distinct from slow). Cells
    whose solver status is not ok are grey (masked); cells never computed are hatched. A seed axis is
    averaged over (geometric mean on a log scale); a sweep with one axis besides seeds is drawn as
    lines with a band over the seeds (`_plot_value_lines`)."""
    x, y = phase_axes(ds, x, y)
    ds = _sorted(ds)
    if y is None:
        return _plot_value_lines(ds, variable, x, log=log)
    ds, fixed_note = _fix_others(ds, (x, y))
    order = ([SEED] if SEED in ds[variable].dims else []) + [y, x] + (["mode"] if "mode" in ds[variable].dims else [])
    values = np.asarray(ds[variable].transpose(*order).values, dtype=float)
    status_da = ds["mode_status"] if "mode_status" in ds else ds["status"]
    status = np.asarray(status_da.transpose(*[d for d in order if d in status_da.dims]).values)
    while status.ndim < values.ndim:
        status = status[..., None]
    status = np.broadcast_to(status, values.shape)
    outcome = (np.asarray(ds["outcome"].transpose(*order).values) if "outcome" in ds
               and ds["outcome"].dims == ds[variable].dims else None)
    missing = status == -1  # `read_store`: a cell of a chunk that is not done
    values = np.where(status == 0, values, np.nan)
    timing = variable == "time_to_converge"
    collapsed = np.zeros(values.shape, bool) if timing else _collapsed_cells(ds, variable, values, outcome)
    moving = (outcome == 3) if (timing and outcome is not None) else np.zeros(values.shape, bool)
    if SEED in order:  # summary over seeds: a mean, collapsed where most seeds collapsed
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            alive_vals = np.where(collapsed, np.nan, values)
            if log:
                summary = np.exp(np.nanmean(np.log(np.where(alive_vals > 0, alive_vals, np.nan)), axis=0))
            else:
                summary = np.nanmean(alive_vals, axis=0)
        collapsed = collapsed.mean(axis=0) > 0.5
        moving = moving.mean(axis=0) > 0.5
        missing = missing.all(axis=0)
        bad = np.all(~np.isfinite(values), axis=0) & ~collapsed
        values = np.where(bad, np.nan, summary)
    modes = values.shape[-1] if values.ndim == 3 else 1
    if values.ndim == 2:
        values, collapsed, moving, missing = (a[..., None] for a in (values, collapsed, moving, missing))
    alive = values[np.isfinite(values) & ~collapsed]
    if log:
        alive = alive[alive > 0]
    norm = None
    if alive.size:
        lo, hi = float(alive.min()), float(alive.max())
        if hi <= lo:
            lo, hi = (lo / 2, hi * 2) if log and lo > 0 else (lo - 0.5, hi + 0.5)
        norm = LogNorm(vmin=lo, vmax=hi) if log else Normalize(vmin=lo, vmax=hi)
    else:
        norm = LogNorm(vmin=1e-6, vmax=1.0) if log else Normalize(0.0, 1.0)
    under = norm.vmin / 10.0 if log else norm.vmin - 1.0
    shown = np.where(collapsed & np.isfinite(values), under, values)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad=STATUS_BAD_COLOR, under=COLLAPSED_COLOR)
    nrows, ncols = _grid(modes, 1, False)
    fig, axes = subplots(nrows, ncols, figsize=(3.5 * ncols + 0.9, 3.4 * nrows + 1.3), constrained_layout=True,
                         squeeze=False)
    flat = list(axes.flat)
    eta_star, edges = _eta_lines(ds, x, y)
    breaks = (eta_star,) if eta_star is not None else ()
    im = None
    extra: dict[str, object] = {}
    for m in range(modes):
        ax = flat[m]
        xe, ye = _mode_cell_edges(ds, x, y, breaks, edges, eta_star, m)
        im = _mesh(ax, xe, ye, np.ma.masked_invalid(shown[..., m]), cmap=cmap, norm=norm)
        _hatch(ax, xe, ye, missing[..., m], NOT_COMPUTED_COLOR, NOT_COMPUTED_HATCH)
        _hatch(ax, xe, ye, moving[..., m] & ~missing[..., m], NOT_CONVERGED_COLOR, NOT_CONVERGED_HATCH,
               edge="#B00000")
        _scale(ax, ds, x, "x")
        _scale(ax, ds, y, "y")
        _draw_mode_lines(ax, ds, x, eta_star, edges, m, extra)
        ax.set_title(_mode_title(ds, m), fontsize=FONT["small"])
    for ax in flat[modes:]:
        ax.set_visible(False)
    cbar = fig.colorbar(im, ax=[a for a in flat[:modes]], extend="min" if collapsed.any() else "neither",
                        shrink=0.9, pad=0.02)
    cbar.set_label(VALUE_LABELS.get(variable, variable), fontsize=FONT["small"])
    cbar.ax.tick_params(labelsize=FONT["small"])
    handles, labels = [], []
    if collapsed.any():
        handles.append(matplotlib.patches.Rectangle((0, 0), 1, 1, facecolor=COLLAPSED_COLOR, edgecolor="black",
                                                    lw=0.6))
        labels.append(r"collapsed ($s_j \leq 10^{-6}$; below the scale)")
    if moving.any():
        handles.append(matplotlib.patches.Rectangle((0, 0), 1, 1, facecolor=NOT_CONVERGED_COLOR, edgecolor="#B00000",
                                                    hatch=NOT_CONVERGED_HATCH))
        labels.append("never converged (still moving at $t_{max}$)")
    if np.any(~np.isfinite(values) & ~missing & ~collapsed):
        handles.append(matplotlib.patches.Rectangle((0, 0), 1, 1, facecolor=STATUS_BAD_COLOR))
        labels.append("no value (solver stopped early)")
    if missing.any():
        handles.append(matplotlib.patches.Rectangle((0, 0), 1, 1, facecolor=NOT_COMPUTED_COLOR, edgecolor="#999999",
                                                    hatch=NOT_COMPUTED_HATCH))
        labels.append("not computed")
    handles += list(extra.values())
    labels += list(extra.keys())
    if handles:
        figure_legend(fig, handles, labels, ncol=3)
    notes = [n for n in (_seed_note(ds, "geometric mean" if log else "mean"), fixed_note) if n]
    title = VALUE_LABELS.get(variable, variable).replace("\n", " ")
    fig.suptitle(f"{_header(ds)}\n{title}" + ("; " + "; ".join(notes) if notes else "") + _missing_note(ds),
                 fontsize=FONT["header"])
    fit_legends(fig)
    return fig


def _line_axes(ds: xr.Dataset, x: str, n_panels: int, title: str):
    nrows, ncols = _grid(n_panels, 1, False)
    fig, axes = subplots(nrows, ncols, figsize=(3.6 * ncols + 0.4, 3.2 * nrows + 1.2), constrained_layout=True,
                         squeeze=False, sharex=True)
    return fig, list(axes.flat)


def _plot_outcome_lines(ds: xr.Dataset, x: str) -> Figure:
    """One swept axis (and seeds): per mode, the fraction of seeds in which the mode survives over x
    (0 or 1 without seeds), with η* and the mode's survival edge where they apply."""
    ds, fixed_note = _fix_others(ds, (x,))
    outcome = ds["outcome"]
    order = ([SEED] if SEED in outcome.dims else []) + [x, "mode"]
    codes = np.asarray(outcome.transpose(*order).values)
    alive = ((codes != 0) & (codes < 4) & (codes != NOT_COMPUTED)).astype(float)
    alive = np.where(codes == NOT_COMPUTED, np.nan, alive)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell never computed in any seed: NaN
        frac = np.nanmean(alive, axis=0) if SEED in order else alive
    modes = frac.shape[-1]
    fig, ax = subplots(figsize=(6.4, 4.2), constrained_layout=True)
    colors = mode_colors(modes)
    xs = _centres(ds, x)
    for m in range(modes):  # overlapping modes stay visible: one marker shape each, shrinking
        ax.plot(xs, frac[:, m], marker=_MARKERS[m % len(_MARKERS)], color=colors[m], ms=max(9.0 - 1.2 * m, 3.5),
                mfc="none" if m % 2 else colors[m], lw=1.4, label=_mode_title(ds, m).replace("\n", " "))
    eta_star = eta_threshold(_sigma2(ds)) if ds.attrs.get("data") == "isotropic" and x == "eta" else None
    if eta_star is not None:
        ax.axvline(eta_star, color="black", ls="--", lw=1.2, gid="eta_star",
                   label=rf"$\eta^*$ = {eta_star:.4g} (T17)")
    edges = survival_edges(ds) if x == "eta" else None
    for m, e in enumerate(edges or []):
        if 0 < e < (eta_star or np.inf):
            ax.axvline(e, color=colors[m], ls=(0, (4, 1.5, 1, 1.5)), lw=1.2, gid=f"survival_edge:{m}")
    _scale(ax, ds, x, "x")
    ax.set_xlim(*axis_edges(ds, x)[[0, -1]])
    ax.set_ylim(-0.08, 1.08)
    ax.set_ylabel("fraction of seeds surviving" if SEED in order else "survives (1) / collapses (0)",
                  fontsize=FONT["normal"])
    ax.grid(alpha=0.3)
    figure_legend(fig, ncol=3)
    notes = [n for n in (_seed_note(ds, "fraction"), fixed_note) if n]
    fig.suptitle(_header(ds) + ("\n" + "; ".join(notes) if notes else ""), fontsize=FONT["header"])
    fit_legends(fig)
    return fig


def _plot_value_lines(ds: xr.Dataset, variable: str, x: str, *, log: bool = True) -> Figure:
    """One swept axis (and seeds): per mode, the final value over x, the mean over seeds with a band of
    ± one standard deviation (geometric on a log scale), collapsed modes left out of the mean."""
    ds, fixed_note = _fix_others(ds, (x,))
    da = ds[variable]
    order = ([SEED] if SEED in da.dims else []) + [x] + (["mode"] if "mode" in da.dims else [])
    values = np.asarray(da.transpose(*order).values, dtype=float)
    outcome = np.asarray(ds["outcome"].transpose(*order).values) if "outcome" in ds and ds["outcome"].dims == da.dims \
        else None
    if variable != "time_to_converge":
        values = np.where(_collapsed_cells(ds, variable, values, outcome), np.nan, values)
    if values.ndim == len(order) - (1 if "mode" in order else 0):
        values = values[..., None]
    if SEED not in order:
        values = values[None]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell where every seed collapsed: NaN, not drawn
        if log:
            logs = np.log(np.where(values > 0, values, np.nan))
            mid, sd = np.nanmean(logs, axis=0), np.nanstd(logs, axis=0)
            mean, lo, hi = np.exp(mid), np.exp(mid - sd), np.exp(mid + sd)
        else:
            mean, sd = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
            lo, hi = mean - sd, mean + sd
    modes = mean.shape[-1]
    fig, ax = subplots(figsize=(6.4, 4.2), constrained_layout=True)
    colors = mode_colors(modes)
    xs = _centres(ds, x)
    seeds = values.shape[0]
    for m in range(modes):
        ax.plot(xs, mean[:, m], "o-", color=colors[m], ms=3.5, lw=1.5, label=_mode_title(ds, m).replace("\n", " "))
        if seeds > 1:
            ax.fill_between(xs, lo[:, m], hi[:, m], color=colors[m], alpha=0.2, lw=0, gid=f"band:{m}")
    if log:
        ax.set_yscale("log")
        for set_fmt in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            set_fmt(matplotlib.ticker.FuncFormatter(_log_tick))
    if ds.attrs.get("data") == "isotropic" and x == "eta":
        eta_star = eta_threshold(_sigma2(ds))
        ax.axvline(eta_star, color="black", ls="--", lw=1.2, gid="eta_star", label=rf"$\eta^*$ = {eta_star:.4g} (T17)")
    _scale(ax, ds, x, "x")
    ax.set_xlim(*axis_edges(ds, x)[[0, -1]])
    ax.set_ylabel(VALUE_LABELS.get(variable, variable).replace("\n", " "), fontsize=FONT["normal"])
    ax.grid(alpha=0.3)
    figure_legend(fig, ncol=3)
    band = (f"mean ± 1 s.d. over {seeds} seeds" + (" (geometric)" if log else "")) if seeds > 1 else ""
    notes = [n for n in (band, "collapsed modes left out" if variable != "time_to_converge" else "", fixed_note) if n]
    fig.suptitle(_header(ds) + ("\n" + "; ".join(notes) if notes else ""), fontsize=FONT["header"])
    fit_legends(fig)
    return fig


def _log_tick(value: float, _pos=None) -> str:
    """Tick labels of a log axis as plain numbers (0.3, 2, 1e-05), only at 1, 2, 3 and 5 times a power of
    ten (the minor ticks that matplotlib labels on a short range would otherwise crowd)."""
    if not value > 0:
        return ""
    mantissa = value / 10.0 ** np.floor(np.log10(value) + 1e-9)
    return f"{value:g}" if any(abs(mantissa - k) < 1e-6 * k for k in (1, 2, 3, 5)) else ""


def _mode_title(ds: xr.Dataset, m: int) -> str:
    cfg = _config(ds)
    if ds.attrs.get("model") == "modes" and cfg.get("s0") and cfg.get("p0"):
        return f"mode {m}: $p_0$={cfg['p0'][m]:.3g}, $s_0$={cfg['s0'][m]:.3g}"
    return f"mode {m}" + (" (rank of F)" if ds.attrs.get("model") == "full" else "")


_MODEL_NAMES = {"modes": "eigenmode model (T11-T13)", "full": "matrix model (T2-T4)"}


def _header(ds: xr.Dataset) -> str:
    """The sweep's fixed settings in words; swept settings are named once at the end."""
    a = dict(ds.attrs)
    swept = _swept(ds)
    model = _MODEL_NAMES.get(a.get("model"), f"{a.get('model')} model")
    if a.get("target") == "ema":
        target = "EMA target" + ("" if "tau0" in swept else rf" from $\tau_0$={_label(a.get('tau0'))}")
    else:
        target = "online network as target (SimSiam)"
    pred = {"trained": "trained predictor", "symmetric": "symmetric trained predictor",
            "identity": "no predictor"}.get(a.get("predictor"), f"{a.get('predictor')} predictor")
    parts = [model, target, pred]
    if a.get("loss", "euclidean") != "euclidean":
        parts.append(f"{a.get('loss')} loss")
    if a.get("stop_gradient", "target") != "target":
        parts.append(f"stop-gradient {a.get('stop_gradient')}")
    values = []
    for key, sym in (("sigma2", r"$\sigma^2$"), ("alpha_p", r"$\alpha_p$"), ("beta", r"$\beta$"), ("eta", r"$\eta$"),
                     ("t_max", r"$t_{max}$")):
        if key in swept or (key == "beta" and a.get("target") != "ema"):
            continue
        values.append(f"{sym}={_label(a.get(key))}")
    shown = ", ".join(SYMBOLS.get(n, n).split(" ")[-1] if n in SYMBOLS else n for n in swept)
    return ", ".join(parts) + "; " + ", ".join(values) + (f"; swept: {shown}" if swept else "")
