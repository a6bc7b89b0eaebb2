"""Shared pieces of the run figures: mode colours, collapse marks, level lines, status marking."""

from __future__ import annotations

import matplotlib
import matplotlib.patches  # noqa: F401  (matplotlib.patches.Rectangle)
from matplotlib.figure import Figure
import numpy as np

from ..integrate import STATUS_MESSAGES, Status
from ..results import OUTCOME_TOLERANCES
from ._levels import Level

__all__ = ["mode_colors", "collapse_threshold", "collapse_index", "draw_levels", "mark_status",
           "STATUS_COLOR", "SYMBOLS", "SHORT_SYMBOLS"]

#: Okabe-Ito (colour-blind safe) without yellow, for up to 7 modes; viridis beyond.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"]
STATUS_COLOR = "#D00000"
#: Axis labels with THEORY.md's symbols, per result variable.
SYMBOLS = {
    "eig_F": r"$\lambda_m$: eigenvalues of $F = W X W^T$",
    "eig_Wp": r"$p_m$: eigenvalues of $W_p$ (sym. part)",
    "tau": r"$\tau_j$ (target / online, T13)",
    "relative_rate": r"$\dot\lambda_m / \lambda_m$ (relative rate)",
    "p": r"$p_j$",
    "s": r"$s_j$",
}
SHORT_SYMBOLS = {"eig_F": r"$\lambda_m$", "eig_Wp": r"$p_m$", "tau": r"$\tau_j$"}


def mode_colors(n: int) -> list:
    """n colour-blind-safe colours, one per mode."""
    if n <= len(OKABE_ITO):
        return OKABE_ITO[:n]
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


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], constrained_layout: bool = True,
             **kwargs):
    """A new `Figure` and its axes (as `Figure.subplots`), made without pyplot: no backend is chosen
    or switched, no global figure registry is touched, and nothing needs closing."""
    fig = Figure(figsize=figsize, constrained_layout=constrained_layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)
