"""Shared pieces of the figures: mode colours, font sizes, collapse marks, level lines, status marking,
time axes, and the finishing touches of the command line (`finish_figure`: size and font scale)."""

from __future__ import annotations

import matplotlib
import matplotlib.colors
import matplotlib.font_manager
import matplotlib.patches  # noqa: F401  (matplotlib.patches.Rectangle)
import matplotlib.text
import matplotlib.ticker
from matplotlib.figure import Figure
import numpy as np

from ..integrate import STATUS_MESSAGES, Status
from ..results import OUTCOME_TOLERANCES
from ._levels import Level

__all__ = ["mode_colors", "collapse_threshold", "collapse_index", "draw_levels", "mark_status",
           "STATUS_COLOR", "SYMBOLS", "SHORT_SYMBOLS", "FONT", "subplots", "finish_figure", "time_axis",
           "texts_outside_canvas", "smallest_font", "collapse_marker", "set_symlog_time", "wrap", "fit_legends",
           "figure_legend"]

#: Okabe-Ito (colour-blind safe) without yellow, for up to 7 modes.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"]
#: Okabe-Ito extended with three colours of Paul Tol's palettes (wine, olive, indigo): 10 qualitative colours.
QUALITATIVE_10 = OKABE_ITO + ["#882255", "#999933", "#332288"]
STATUS_COLOR = "#D00000"
#: Font sizes (points) of the figures at their default size: nothing below 9 pt.
FONT = {"small": 9.0, "normal": 10.0, "title": 10.5, "header": 10.5}
#: Axis labels with THEORY.md's symbols, per result variable.
SYMBOLS = {
    "eig_F": r"$\lambda_m$: eigenvalues of $F = W X W^T$",
    "eig_Wp": r"$p_m$: eigenvalues of $W_p$ (sym. part)",
    "tau": r"$\tau_j$ (target / online, T13)",
    "relative_rate": r"$\dot\lambda_m / \lambda_m$ (relative rate)",
    "p": r"$p_j$",
    "s": r"$s_j$",
    "effective_rank": r"effective rank of $F$",
    "kernel_entropy": "kernel entropy (T28)",
    "knn_accuracy": "kNN accuracy",
    "loss": "loss",
}
SHORT_SYMBOLS = {"eig_F": r"$\lambda_m$", "eig_Wp": r"$p_m$", "tau": r"$\tau_j$"}


def mode_colors(n: int) -> list:
    """n colours, one per mode, that tell modes apart: Okabe-Ito (colour-blind safe) up to 7, the same
    extended by wine, olive and indigo up to 10, matplotlib's qualitative tab20 up to 20, and a
    sequential map (viridis, ordered like the modes) beyond."""
    if n <= len(OKABE_ITO):
        return OKABE_ITO[:n]
    if n <= len(QUALITATIVE_10):
        return QUALITATIVE_10[:n]
    if n <= 20:
        return [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab20"].colors[:n]]
    return list(matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, n)))


def collapse_threshold(eig_F: np.ndarray) -> float:
    """`OUTCOME_TOLERANCES["collapsed"]` (1e-6) times the largest initial |eigenvalue| of F, as in
    `dynamics.results.spectrum_outcome`."""
    first = np.asarray(eig_F, dtype=float)[0]
    scale = float(np.nanmax(np.abs(first))) if np.isfinite(first).any() else 1.0
    return OUTCOME_TOLERANCES["collapsed"] * scale


def collapse_index(values: np.ndarray, threshold: float) -> int | None:
    """First saved index from which a mode's eigenvalue stays at or below `threshold` up to the last
    computed time; None when it ends above it."""
    below = np.asarray(values, dtype=float) <= threshold
    if below.size == 0 or not below[-1]:
        return None
    above = np.flatnonzero(~below)
    return int(above[-1] + 1) if above.size else 0


def collapse_marker(ax, x: float, y: float, color, *, gid: str, label: str | None = None):
    """The mark of a collapse: a large cross in the mode's colour with a white rim, drawn above the
    lines and not clipped at the frame (a collapse sits at the bottom of a linear axis)."""
    (line,) = ax.plot([x], [y], marker="X", ms=10, mfc=color, mec="white", mew=1.2, ls="none", gid=gid,
                      zorder=6, clip_on=False, label=label if label is not None else "_nolegend_")
    return line


def draw_levels(ax, levels: list[Level], variable: str) -> list:
    """Horizontal lines for the `levels` of `variable` (gid "level:<variable>:stable|unstable")."""
    lines = []
    for level in levels:
        if level.variable != variable:
            continue
        kind = "stable" if level.stable else "unstable"
        label = level.label if level.stable else f"{level.label}, unstable"
        lines.append(ax.axhline(level.value, color="black", ls="--" if level.stable else ":", lw=1.1,
                                label=label, gid=f"level:{variable}:{kind}", zorder=1))
    return lines


def mark_status(ax, status: int, t_stop: float) -> str:
    """A run that did not finish ok: red frame, tinted background, a dotted line where it stopped;
    returns the status line for the title ("" when ok)."""
    status = Status(int(status))
    if status == Status.ok:
        return ""
    for spine in ax.spines.values():
        spine.set_edgecolor(STATUS_COLOR)
        spine.set_linewidth(2.2)
    ax.set_facecolor("#FDECEC")
    ax.axvline(t_stop, color=STATUS_COLOR, ls=":", lw=1.3, gid="status:stop")
    return f"STATUS {status.name.upper()} at t = {t_stop:.3g}: {STATUS_MESSAGES[status]}"


def time_axis(ax, t: np.ndarray, log_time: bool, *, label: str = "flow time $t$") -> str:
    """Label the time axis and, with `log_time`, make it logarithmic without hiding the start of a run.

    A run saved from t = 0 on a grid whose first positive time is more than 1e-3 of the last (a linear
    grid, a training log) gets a symmetric-log axis, linear up to that first positive time, so t = 0
    and the first interval stay visible; a log-spaced grid gets a log axis from its first positive time
    (t = 0 masked). Returns the scale set ("linear", "log" or "symlog")."""
    ax.set_xlabel(label)
    if not log_time:
        return "linear"
    t = np.asarray(t, dtype=float)
    t = t[np.isfinite(t)]
    positive = t[t > 0]
    if not positive.size:
        return "linear"
    if t.size and t.min() <= 0 and positive[0] > 1e-3 * positive[-1]:
        set_symlog_time(ax, float(positive[0]), float(positive[-1]))
        ax.set_xlim(min(0.0, float(t.min())), float(positive[-1]) * 1.05)
        return "symlog"
    ax.set_xscale("log", nonpositive="mask")
    ax.set_xlim(float(positive[0]), float(positive[-1]) * 1.05)
    return "log"


def set_symlog_time(ax, linthresh: float, t_end: float) -> None:
    """Symmetric-log time axis, linear on [0, linthresh]: major ticks at 0 and at the powers of ten above
    `linthresh` (none inside the linear part, where they would sit on top of the 0)."""
    from matplotlib.ticker import FixedLocator, LogFormatterSciNotation, NullLocator

    ax.set_xscale("symlog", linthresh=linthresh, linscale=0.35)
    k0 = int(np.ceil(np.log10(linthresh * 1.5)))
    k1 = int(np.floor(np.log10(max(t_end, linthresh))))
    decades = [10.0**k for k in range(k0, k1 + 1)]
    if len(decades) < 2:  # less than two decades: 1-2-5 ticks
        decades = [m * 10.0**k for k in range(k0 - 1, k1 + 1) for m in (1, 2, 5)
                   if 1.5 * linthresh <= m * 10.0**k <= t_end]
    ax.xaxis.set_major_locator(FixedLocator([0.0] + decades))
    ax.xaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False) if len(decades) >= 2 and all(
        np.log10(d) % 1 == 0 for d in decades) else matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.xaxis.set_minor_locator(NullLocator())


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], constrained_layout: bool = True,
             **kwargs):
    """A new `Figure` and its axes (as `Figure.subplots`), made without pyplot: no backend is chosen
    or switched, no global figure registry is touched, and nothing needs closing."""
    fig = Figure(figsize=figsize, constrained_layout=constrained_layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def wrap(text: str, width: int) -> str:
    """`text` folded at spaces into lines of at most `width` characters (mathtext has no spaces inside
    its short symbols, so it is never cut)."""
    import textwrap

    return "\n".join(textwrap.fill(line, width=width, break_long_words=False, break_on_hyphens=False)
                     for line in text.split("\n"))


def _all_axes(fig: Figure) -> list:
    out, todo = [], list(fig.axes)
    while todo:
        ax = todo.pop()
        if ax not in out:
            out.append(ax)
            todo.extend(getattr(ax, "child_axes", []))
    return out


def finish_figure(fig: Figure, *, size: tuple[float, float] | None = None, font_scale: float = 1.0) -> Figure:
    """Resize `fig` to `size` = (width, height) in inches and multiply every font size (titles, labels,
    tick labels, legends, annotations) by `font_scale`; returns `fig`. The layout engine of the
    figure re-flows the panels when it is saved."""
    if size is not None:
        fig.set_size_inches(*size)
    if font_scale != 1.0:
        _scale_fonts(fig, font_scale)
    fit_legends(fig)  # the title and the legends to the new width
    return fig


def fit_legends(fig: Figure, margin: float = 0.97) -> None:
    """Fold the figure title to the figure's width, and give a figure-level legend made by
    `figure_legend` fewer columns while it is wider than `margin` of the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    title = getattr(fig, "_suptitle", None)
    if title is not None and title.get_text():
        chars = int(fig.get_size_inches()[0] * 72 / (title.get_fontsize() * 0.6))
        title.set_text(wrap(title.get_text(), max(chars, 20)))
    if not fig.legends:
        return
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    for legend in list(fig.legends):
        spec = getattr(legend, "_ssl_spec", None)
        if spec is None:
            continue
        handles, labels, kwargs, ncol = spec
        while ncol > 1 and legend.get_window_extent(renderer).width > margin * fig.bbox.width:
            ncol -= 1
            legend.remove()
            legend = _make_legend(fig, handles, labels, ncol, kwargs)


def _make_legend(fig: Figure, handles, labels, ncol: int, kwargs: dict):
    legend = fig.legend(handles, labels, ncol=ncol, **kwargs)
    legend._ssl_spec = (handles, labels, kwargs, ncol)
    return legend


def figure_legend(fig: Figure, handles: list | None = None, labels: list | None = None, *, ncol: int, **kwargs):
    """A legend for the whole figure, below the panels unless `loc` says otherwise, with at most `ncol`
    columns and fewer when it would be wider than the figure (`fit_legends`, also after `finish_figure`
    resizes it). Without `handles`, those of every axes (as `Figure.legend`)."""
    if handles is None:
        from matplotlib.legend import _get_legend_handles_labels

        handles, labels = _get_legend_handles_labels(fig.axes)
    if labels is None:
        labels = [h.get_label() for h in handles]
    kwargs.setdefault("loc", "outside lower center")
    kwargs.setdefault("fontsize", FONT["small"])
    kwargs.setdefault("frameon", False)
    legend = _make_legend(fig, list(handles), list(labels), max(1, min(ncol, len(handles))), kwargs)
    fit_legends(fig)
    return legend


def _scale_fonts(fig: Figure, font_scale: float) -> None:
    """Every text of `fig` (tick labels through `tick_params`, so new ticks follow) times `font_scale`."""
    ticks = set()
    axes = _all_axes(fig)
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = axis.get_ticklabels(which="both")
            ticks.update(id(t) for t in labels)
    for text in fig.findobj(matplotlib.text.Text):
        if id(text) not in ticks:
            text.set_fontsize(text.get_fontsize() * font_scale)
    for ax in axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labels = axis.get_ticklabels()
            size0 = labels[0].get_fontsize() if labels else matplotlib.rcParams["xtick.labelsize"]
            size0 = matplotlib.font_manager.FontProperties(size=size0).get_size_in_points()
            ax.tick_params(axis=name, which="both", labelsize=size0 * font_scale)


def _drawn(fig: Figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig) if not isinstance(fig.canvas, FigureCanvasAgg) else fig.canvas
    canvas.draw()
    return canvas.get_renderer()


def _visible(text) -> bool:
    return bool(text.get_visible() and text.get_text().strip())


def texts_outside_canvas(fig: Figure, tolerance: float = 1.5) -> list[str]:
    """Draw `fig` (Agg) and return a description of every piece of text that sticks out of the canvas
    by more than `tolerance` pixels: an axes' tick labels, axis labels and title (its tight box), a
    figure title, figure-level text or legend. Empty when everything is on the canvas."""
    renderer = _drawn(fig)
    W, H = fig.bbox.width, fig.bbox.height

    def out(box) -> bool:
        return box.x0 < -tolerance or box.y0 < -tolerance or box.x1 > W + tolerance or box.y1 > H + tolerance

    bad = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        box = ax.get_tightbbox(renderer)
        if box is not None and out(box):
            bad.append(f"axes {ax.get_title()!r} / {ax.get_xlabel()!r}: {box.bounds}")
    texts = list(fig.texts) + [t for t in (getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None),
                                           getattr(fig, "_supylabel", None)) if t is not None]
    for text in texts:
        if _visible(text) and out(text.get_window_extent(renderer)):
            bad.append(f"text {text.get_text()[:60]!r}")
    for legend in fig.legends:
        if out(legend.get_window_extent(renderer)):
            bad.append(f"legend {[t.get_text() for t in legend.get_texts()][:3]}")
    return bad


def smallest_font(fig: Figure, *, draw: bool = True) -> float:
    """The smallest font size (points) of any visible, non-empty text of `fig` after drawing it
    (`draw=False`: as last drawn), tick labels included."""
    if draw:
        _drawn(fig)
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if _visible(t)]
    for ax in _all_axes(fig):
        for axis in (ax.xaxis, ax.yaxis):
            sizes += [t.get_fontsize() for t in axis.get_ticklabels() if _visible(t)]
    return float(min(sizes)) if sizes else float("inf")
