"""Figures of a comparison: the measured spectrum (solid) against the prediction (dashed), and errors
against the setting that differs between several runs."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..plots import mode_colors, subplots
from ..sweep import stable_fixed_point
from ._compare import Comparison, _by_rank
from ._predict import valid_rows

__all__ = ["plot_comparison", "plot_error_against_setting", "MAX_DRAWN_MODES"]

#: Modes drawn in an overlay (the largest at t = 0); the errors cover all of them.
MAX_DRAWN_MODES = 8


def plot_comparison(comp: Comparison, *, log_time: bool = False) -> Figure:
    """eig_F (log scale), the predictor eigenvalue p and tau over flow time: measured solid, predicted
    dashed, for the `MAX_DRAWN_MODES` largest modes (rank-wise); the (T17) levels p*_+ and s* = p*_+^2 /
    alpha_p dotted where they apply (a trained linear predictor, Euclidean loss, tau at 1)."""
    log, pred, inp, summ = comp.log, comp.prediction, comp.inputs, comp.summary
    reached = valid_rows(log)
    t = inp.times
    pred_s, pred_p, pred_tau = _by_rank(pred["s"].values, pred["p"].values, pred["tau"].values)
    panels = [("eig_F", log["eig_F"].values[reached], pred_s, r"eigenvalues of $\hat F$")]
    if "p" in log:
        panels.append(("p", log["p"].values[reached], pred_p, r"predictor $p_j = u_j^T W_p u_j$"))
    if inp.target == "ema":
        panels.append(("tau", log["tau"].values[reached], pred_tau, r"$\tau_j$ (target / online)"))
    fig, axes = subplots(1, len(panels), figsize=(4.4 * len(panels), 4.4))
    axes = np.atleast_1d(axes)
    m = min(MAX_DRAWN_MODES, int(np.sum(inp.s0 > 0)) or 1)
    colors = mode_colors(m)
    scale0 = float(np.max(inp.s0)) if np.max(inp.s0) > 0 else 1.0
    for ax, (name, measured, predicted, title) in zip(axes, panels):
        for j in range(m):
            ax.plot(t, measured[:, j], color=colors[j], lw=1.5, label=f"rank {j}" if name == "eig_F" else None)
            ax.plot(t, predicted[:, j], color=colors[j], lw=1.3, ls="--")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("flow time $t$")
        ax.grid(alpha=0.3)
        if log_time:
            ax.set_xscale("log")
        if name == "eig_F":
            ax.set_yscale("log")
            ax.set_ylim(max(1e-6 * scale0, np.nanmin(np.where(measured[:, :m] > 0, measured[:, :m], np.inf)) / 3),
                        3 * max(np.nanmax(measured[:, :m]), np.nanmax(predicted[:, :m])))
        if name == "tau":
            ax.set_ylim(-0.1, 1.3)
    if inp.predictor in ("trained", "symmetric") and inp.loss == "euclidean" and inp.target in ("ema", "online"):
        lam = float(np.mean(inp.lam_s[inp.s0 > 0]))
        p_star = float(stable_fixed_point(np.asarray(1.0), 1.0, np.asarray(lam), np.asarray(inp.eta)))
        if np.isfinite(p_star):
            if "p" in log:
                axes[1].axhline(p_star, color="0.3", ls=":", lw=1.2, label=rf"$p^*_+$ = {p_star:.3g} (T17)")
            axes[0].axhline(p_star**2 / inp.alpha_p, color="0.3", ls=":", lw=1.2,
                            label=rf"$s^* = p_+^{{*2}}/\alpha_p$ = {p_star**2 / inp.alpha_p:.3g}")
    axes[0].plot([], [], color="0.3", lw=1.5, label="measured")
    axes[0].plot([], [], color="0.3", lw=1.3, ls="--", label="predicted (T11-T13b)")
    handles, labels = [], []
    for ax in axes:  # one legend for every panel, below them, covering no data
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=min(6, len(labels)), fontsize=8, frameon=False)
    verdict = "predicted" if summ["predicted"] else "not predicted"
    errs = []
    if np.isfinite(summ["median_relative_error"]):
        errs.append(f"surviving modes {summ['median_relative_error']:.2g} relative")
    if np.isfinite(summ["median_log_error"]):
        errs.append(f"collapsing modes {summ['median_log_error']:.2g} decades")
    fig.suptitle(f"{summ['run']}: {summ['method']} {summ['model']} on {summ['dataset']} — {verdict}\n"
                 f"median error: {', '.join(errs) or 'none'}; outcomes agree on "
                 f"{summ['outcome_agreement']:.0%} of the modes", fontsize=10)
    return fig


def plot_error_against_setting(comps: Sequence[Comparison], setting: str, values: Sequence) -> Figure:
    """The median spectrum errors (relative and log) and the outcome agreement of several runs against the
    setting that differs between them."""
    fig, axes = subplots(1, 2, figsize=(9.0, 3.6))
    x = np.arange(len(values))
    labels = [str(v) for v in values]
    rel = [c.summary["median_relative_error"] for c in comps]
    logs = [c.summary["median_log_error"] for c in comps]
    agree = [c.summary["outcome_agreement"] for c in comps]
    axes[0].plot(x, rel, "o-", label="median relative error (surviving modes)")
    axes[0].plot(x, logs, "s--", label="median log error, decades (collapsing modes)")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("error")
    axes[0].legend(fontsize=8)
    axes[1].plot(x, agree, "o-", color="#009E73")
    axes[1].set_ylim(-0.05, 1.05)
    axes[1].set_ylabel("outcome agreement")
    for ax in axes:
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_xlabel(setting)
        ax.grid(alpha=0.3)
    fig.suptitle(f"theory vs training: error against {setting}", fontsize=10)
    return fig
