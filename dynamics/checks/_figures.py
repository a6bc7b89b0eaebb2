"""One figure per claim (`ssl-dynamics check --figures`): the claim's series, or its measurement on a
number line against the prediction and the tolerance; labelled axes and a caption that is never cut."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._report import format_number, measured_quantity
from ._run import ClaimResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["claim_figure", "write_figures", "figure_name", "claim_axes", "CLAIM_AXES"]

_T = "flow time $t$"
#: (x label, y label) of each claim's series (`Evidence.series`), by claim id. A claim missing here gets
#: "flow time t" when its series look like trajectories (x from 0, increasing, 10+ points), else "setting".
CLAIM_AXES: dict[str, tuple[str, str]] = {
    "tcg21.thm1.flow": (_T, "relative residual of (T6)"),
    "tcg21.thm1.sgd": ("learning rate", "relative residual of (T6), mean over seeds"),
    "tcg21.thm2.collapse_bound": (_T, r"$\|W(t)\| / \|W(0)\|$"),
    "tcg21.thm2.no_predictor": (_T, r"$\|W(t)\|$"),
    "tcg21.thm3.commutator_bound": (_T, r"$\|[F, W_p]\|$ (relative to $t = 0$)"),
    "tcg21.thm3.misalignment": (_T, r"$\|[F, W_p]\|$ (relative) and $\lambda_{min}(K)$"),
    "tcg21.thm3.fixed_point": (_T, r"$\|W_p(t) - W_p^*\| / \|W_p(t)\|$"),
    "tcg21.appd.fixed_point": (_T, "relative residual of the App. D fixed point"),
    "tcg21.t14.invariant": (_T, "residual of (T14)"),
    "tcg21.t17.example": (_T, r"predictor eigenvalue $p$"),
    "tcg21.t17.basin": (_T, r"predictor eigenvalue $p$"),
    "tcg21.obs1.alpha_p_shrinks_basin": (r"$\alpha_p$", r"basin edge $s(0)$"),
    "tcg21.obs2.large_alpha_p_stalls": (_T, r"$s_j$"),
    "tcg21.obs3.decay_reaches_parabola": (_T, r"$|s - p^2/\alpha_p|$"),
    "tcg21.obs4.eta_grows_basin": (r"weight decay $\eta$", r"basin edge $p(0)$"),
    "tcg21.obs5.past_eta_star_all_collapse": (r"$\eta / \eta^*$", "fraction of modes surviving"),
    "tcg21.obs6.alpha_p_loosens_t18": (r"$\alpha_p$", r"$\|[F,W_p]\|(T) / \|[F,W_p]\|(0)$"),
    "tcg21.obs7.eta_loosens_t18": (r"weight decay $\eta$", r"$\|[F,W_p]\|(T) / \|[F,W_p]\|(0)$"),
    "tcg21.obs8.ema_curriculum": (_T, r"$\tau$ and $(1+\sigma^2)p$"),
    "tcg21.obs9.slow_ema_slows_training": (r"EMA rate $\beta$", r"time to 90% of the final $s$"),
    "tcg21.obs10.small_tau_traps_modes": (r"$\tau$", r"$p^*_-(\tau)$"),
    "hlz23.lambda_star.power_euclidean": (_T, r"eigenvalue $\lambda$ of $F$"),
    "hlz23.isoloss.lambda_star": (_T, r"eigenvalue $\lambda$ of $F$"),
    "hlz23.isoloss.early_rates": (r"initial eigenvalue $\lambda_0$", r"early growth rate of $\log\lambda$"),
    "hlz23.cosine.trace_conserved": (_T, r"$|\mathrm{tr}F(t) / \mathrm{tr}F(0) - 1|$"),
    "hlz23.cosine.isotropic_mean_field": (_T, r"eigenvalue $\lambda$ of $F$"),
    "hlz23.ablation.no_stop_gradient": (_T, r"eigenvalue $\lambda$ of $F$"),
    "hlz23.ablation.no_predictor": (_T, r"eigenvalue $\lambda$ of $F$"),
    "hlz23.weight_decay.euclidean_above_threshold": (_T, r"eigenvalue $\lambda$ of $F$"),
    "hlz23.weight_decay.euclidean_below_threshold": (_T, r"eigenvalue $\lambda$ of $F$"),
    "hlz23.weight_decay.isoloss_lambda_star": (_T, r"eigenvalue $\lambda$ of $F$"),
    "rtt23.trained_predictor.approaches_ridge": (_T, r"$\|W_p - W_p^*\| / \|W_p^*\|$"),
    "rtt23.isoloss_iteration.orthonormalizes": ("iteration", r"$\|(1+\sigma^2) W W^T - I\|_F$"),
    "rtt23.table.power_normalized_euclidean": (_T, r"eigenvalue $\lambda$ of $F$"),
    "rtt23.table.directpred_euclidean": (_T, r"eigenvalue $\lambda$ of $F$"),
    "rtt23.table.inverse_sqrt_euclidean": (_T, r"eigenvalue $\lambda$ of $F$"),
    "rtt23.table.ridge_lstsq_euclidean": (_T, r"$\|W(t) - W(0)\| / \|W(0)\|$"),
    "rbr23.entropy.range_bound": ("configuration (index)", r"entropy range / $\log k$"),
    "rbr23.byol.entropy_band": (_T, r"$h$ = entropy range / $\log k$"),
    "rbr23.no_sg.entropy_falls": (_T, r"$h$ = entropy range / $\log k$"),
    "rbr23.no_sg_identity.entropy_constant": (_T, r"$|H(t) - H(0)|$"),
    "dhel22.dissl.invariance": ("SGD step", "within-class variance of the codes"),
    "dhel22.dissl.etf": ("SGD step", "distance to a simplex ETF"),
    "dhel22.prop2.worst_case_risk": ("number of tasks $n$", "worst-case risk"),
}
_SEED = re.compile(r"^seed \d+$")
_PASS, _FAIL = "#1a7f37", "#c62828"


def claim_axes(result: ClaimResult) -> tuple[str, str]:
    """(x label, y label) of a claim's figure: `Evidence.x_label` / `y_label` when the evidence has them,
    else `CLAIM_AXES`, else a guess from the series (time when they look like trajectories)."""
    ev = result.evidence
    given = (getattr(ev, "x_label", None), getattr(ev, "y_label", None))
    table = CLAIM_AXES.get(result.id, (None, None))
    x_label, y_label = given[0] or table[0], given[1] or table[1]
    if x_label is None:
        xs = [np.asarray(x, dtype=float) for x, _ in (ev.series or {}).values()] if ev is not None else []
        trajectory = xs and all(x.size >= 10 and x[0] >= 0 and np.all(np.diff(x) > 0) for x in xs)
        x_label = _T if trajectory else "setting"
    if y_label is None:
        names = list((ev.series or {}).keys()) if ev is not None else []
        y_label = names[0] if len(names) == 1 else "value"
    return x_label, y_label


def _caption(result: ClaimResult, width: int) -> str:
    from ..plots import wrap

    ev = result.evidence
    lines = [f"Claim ({result.claim.source}): {result.claim.statement}"]
    if ev is not None:
        se = "" if ev.stderr is None else f" ± {format_number(ev.stderr)}"
        lines.append(f"Measured {format_number(ev.measured)}{se}; predicted {format_number(ev.predicted)}, "
                     f"{_RULES[ev.compare]} with tolerance {format_number(ev.tolerance)}: "
                     f"{'PASS' if result.passed else 'FAIL'}.")
        if ev.detail:
            lines.append(f"Detail: {ev.detail}")
    else:
        lines.append(f"The experiment raised: {result.error}")
    return "\n".join(wrap(_plain(line), width) for line in lines)


_RULES = {"abs": "|measured − predicted| ≤ tolerance",
          "rel": "|measured − predicted| ≤ tolerance × |predicted|",
          "le": "measured ≤ predicted + tolerance", "ge": "measured ≥ predicted − tolerance"}


def _plain(text: str) -> str:
    """Text safe for matplotlib: a lone `$` would start mathtext, so dollars are escaped unless they
    pair up into a short formula."""
    if text.count("$") % 2:
        return text.replace("$", r"\$")
    return text


def _series(ax, ev) -> None:
    """The evidence's series; three or more "seed k" series on a shared x become their mean with the
    range over seeds as a band (and the seeds as thin lines)."""
    from ..plots import mode_colors

    items = [(label, np.asarray(x, dtype=float), np.asarray(y, dtype=float)) for label, (x, y) in ev.series.items()]
    seeds = [it for it in items if _SEED.match(it[0])]
    shared = len(seeds) >= 3 and all(it[1].shape == seeds[0][1].shape and np.allclose(it[1], seeds[0][1])
                                     for it in seeds)
    others = [it for it in items if not (shared and _SEED.match(it[0]))]
    colors = mode_colors(max(len(others) + (1 if shared else 0), 1))
    if shared:
        x = seeds[0][1]
        Y = np.stack([it[2] for it in seeds])
        if ev.log_y:
            Y = np.where(Y > 0, Y, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a time where no seed is positive: NaN
            mean = np.exp(np.nanmean(np.log(Y), axis=0)) if ev.log_y else np.nanmean(Y, axis=0)
            lo, hi = np.nanmin(Y, axis=0), np.nanmax(Y, axis=0)
        for y in Y:
            ax.plot(x, y, color=colors[0], lw=0.6, alpha=0.35)
        ax.fill_between(x, lo, hi, color=colors[0], alpha=0.2, lw=0, label=f"range over {len(seeds)} seeds")
        ax.plot(x, mean, color=colors[0], lw=2.0, label=f"{'geometric ' if ev.log_y else ''}mean over seeds")
        colors = colors[1:]
    for (label, x, y), color in zip(others, colors):
        if ev.log_y:
            y = np.where(y > 0, y, np.nan)
        ax.plot(x, y, marker="o" if x.size <= 12 else None, ms=4, color=color, lw=1.5, label=_plain(label))


def _fix_degenerate(ax, log_y: bool) -> None:
    """Give a flat or empty y range some height (a constant series, or a log axis with no positive value)."""
    lo, hi = ax.get_ylim()
    data = [np.asarray(line.get_ydata(), dtype=float) for line in ax.lines]
    finite = np.concatenate([d[np.isfinite(d)] for d in data]) if data else np.array([])
    if log_y and (not finite.size or not np.any(finite > 0)):
        ax.set_yscale("linear")
        log_y = False
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        if log_y:
            pos = finite[finite > 0]
            lo, hi = float(pos.min()), float(pos.max())
            if hi <= lo * 1.0001:
                ax.set_ylim(lo / 3.0, hi * 3.0)
        elif hi - lo <= 1e-9 * max(abs(lo), abs(hi), 1e-300):
            pad = 0.1 * abs(hi) if hi != 0 else 1.0
            ax.set_ylim(lo - pad, hi + pad)
    if not log_y:
        ax.ticklabel_format(axis="y", useOffset=False)


def _number_line(ax, ev, passed: bool, y_label: str) -> None:
    """The measurement on a horizontal number line: the pass region shaded, the prediction as a line,
    the measurement (± its standard error) as a point, each labelled with its value."""
    p, tol, m = float(ev.predicted), float(ev.tolerance), float(ev.measured)
    width = {"abs": tol, "rel": tol * abs(p)}.get(ev.compare)
    se = float(ev.stderr) if ev.stderr is not None else 0.0
    pts = [p, m - se, m + se] + ([p - width, p + width] if width is not None else [p + tol if ev.compare == "le"
                                                                                   else p - tol])
    pts = [v for v in pts if np.isfinite(v)]
    lo, hi = min(pts), max(pts)
    span = hi - lo
    pad = 0.25 * span if span > 1e-12 * max(abs(lo), abs(hi), 1e-300) else (0.1 * abs(p) if p != 0 else 1.0)
    lo, hi = lo - pad, hi + pad
    colour = _PASS if passed else _FAIL
    if width is not None:
        region = (p - width, p + width)
    elif ev.compare == "le":
        region = (lo, p + tol)
    else:
        region = (p - tol, hi)
    if region[1] > region[0]:  # below the legend row (the top fifth of the axes)
        ax.axvspan(*region, ymin=0.0, ymax=0.78, color="0.86", label="pass region", zorder=0)
    ax.vlines([p], -1.0, 0.55, color="black", lw=1.2, label=f"predicted {format_number(p)}", zorder=1)
    if np.isfinite(m):
        ax.errorbar([m], [0.0], xerr=None if ev.stderr is None else [se], fmt="o", ms=9, color=colour, capsize=5,
                    label=f"measured {format_number(m)}" + ("" if ev.stderr is None else f" ± {format_number(se)}"),
                    zorder=3)
    ax.set_xlim(lo, hi)
    ax.set_ylim(-1.0, 1.0)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.ticklabel_format(axis="x", useOffset=False)
    ax.set_xlabel(y_label)


def claim_figure(result: ClaimResult) -> Figure:
    """A figure for one claim. With `Evidence.series`: the series (log y where `log_y` says; "seed k"
    series as a mean with a band over seeds) on labelled axes (`claim_axes`). Without: the measurement
    on a number line against the prediction, with the pass region of the tolerance shaded. Title: the
    claim id and its verdict; caption (wrapped, never cut): the statement, measured against predicted
    with the comparison, and the experiment's detail."""
    from ..plots import FONT, subplots

    ev = result.evidence
    series = ev is not None and bool(ev.series)
    fig, ax = subplots(figsize=(7.2, 5.2 if series else 3.6), constrained_layout=True)
    colour = _PASS if result.passed else _FAIL
    if ev is None:
        ax.set_axis_off()
    elif series:
        _series(ax, ev)
        if ev.log_y:
            ax.set_yscale("log")
        x_label, y_label = claim_axes(result)
        ax.set_xlabel(x_label, fontsize=FONT["normal"])
        ax.set_ylabel(y_label, fontsize=FONT["normal"])
        _fix_degenerate(ax, ev.log_y)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=FONT["small"], loc="best", framealpha=0.85)
    else:
        quantity = getattr(ev, "y_label", None) or CLAIM_AXES.get(result.id, (None, None))[1] \
            or measured_quantity(result.claim) or "measured value"
        from ..plots import wrap

        _number_line(ax, ev, result.passed, wrap(_plain(quantity), 90))
        ax.legend(fontsize=FONT["small"], loc="upper center", ncol=3, frameon=False, bbox_to_anchor=(0.5, 1.0))
    ax.set_title(f"{result.id}: {'PASS' if result.passed else 'FAIL'}", color=colour, fontsize=FONT["title"] + 1)
    fig.supxlabel(_caption(result, int(7.2 * 72 / (FONT["small"] * 0.6))), x=0.01, ha="left",
                  multialignment="left", fontsize=FONT["small"])
    return fig


def write_figures(results: Sequence[ClaimResult], folder: str | Path) -> list[Path]:
    """One PNG per claim in `folder` (`<claim id>.png`), each written atomically."""
    from ..plots import save_figure

    folder = Path(folder)
    return [save_figure(claim_figure(r), folder / figure_name(r.id)) for r in results]


def figure_name(claim_id: str) -> str:
    """File name of a claim's figure: the id with anything but letters, digits, '.', '_' and '-' replaced."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", claim_id) + ".png"
