"""Eigenvalue trajectories of one run: eig(F), eig(Wp) and tau_j over time."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless: plots are written to files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..integrate import STATUS_MESSAGES, Status  # noqa: E402

__all__ = ["plot_eigenvalue_trajectories"]


def predicted_fixed_point(attrs: dict) -> tuple[float, float] | None:
    """(p*, s*) that (T17) predicts for a run with isotropic data, the usual stop-gradient and a
    trained predictor, with tau -> 1 (EMA at rest, or SimSiam): p*_+ for eta > 0 (None past
    eta* = 1/(4(1+sigma2))), and p = 1/(1+sigma2) on the eta = 0 line (s* is then not fixed)."""
    if attrs.get("data") != "isotropic" or attrs.get("stop_gradient") != "target" or attrs.get(
            "predictor") not in ("trained", "symmetric"):
        return None
    sigma2, eta, alpha_p = float(attrs["sigma2"]), float(attrs["eta"]), float(attrs["alpha_p"])
    eta_p = float(attrs.get("eta_p_effective", eta))
    lam = 1.0 + sigma2
    if eta == 0.0:
        return 1.0 / lam, float("nan")
    disc = 1.0 - 4.0 * eta * lam
    if disc < 0:
        return None
    p = (1.0 + np.sqrt(disc)) / (2.0 * lam)
    return p, eta_p * p / (alpha_p * (1.0 - lam * p))


def _fixed_point_lines(ds: xr.Dataset, axes) -> None:
    point = predicted_fixed_point(ds.attrs)
    if point is None:
        return
    p, s = point
    axes[1].axhline(p, color="black", ls="--", lw=1.0, label=rf"$p^*_+$ = {p:.4g} (T17)")
    axes[1].legend(fontsize=7)
    if np.isfinite(s):
        axes[0].axhline(s, color="black", ls="--", lw=1.0, label=rf"$s^* = {s:.4g}$ (T17)")


def plot_eigenvalue_trajectories(ds: xr.Dataset, *, log_time: bool = False) -> Figure:
    """One line per mode for eig(F) (T9's F = W X W^T), eig(Wp) and, for an EMA target, tau_j (T13),
    with the fixed point that (T17) predicts as dashed lines (`predicted_fixed_point`).

    Only computed times are drawn. A run whose `status` is not ok gets a red banner with the status
    and a dotted line where it stopped, so a failed trajectory is never shown as if it were fine.
    """
    has_tau = ds.attrs.get("target") == "ema"
    ncols = 3 if has_tau else 2
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols, 3.6), constrained_layout=True)
    reached = ds["reached"].values.astype(bool)
    t = ds["time"].values[reached]
    panels = [("eig_F", "eigenvalues of $F = W X W^T$"), ("eig_Wp", "eigenvalues of $W_p$ (sym. part)")]
    if has_tau:
        panels.append(("tau", r"$\tau_j$ (target / online)"))
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, ds.sizes["mode"]))
    for ax, (name, title) in zip(axes, panels):
        values = ds[name].values[reached]
        for m in range(values.shape[1]):
            ax.plot(t, values[:, m], color=colors[m], lw=1.4, label=f"mode {m}")
        ax.set_title(title)
        if name == "tau" and np.isfinite(values).any():
            lo, hi = np.nanpercentile(values, [1, 99])
            ax.set_ylim(min(0.0, lo) - 0.05, max(1.2, hi) + 0.05)
        ax.set_xlabel("flow time $t$")
        if log_time:
            ax.set_xscale("symlog", linthresh=max(t[1] if t.size > 1 else 1.0, 1e-12))
        ax.grid(alpha=0.3)
    _fixed_point_lines(ds, axes)
    if ds.sizes["mode"] <= 10:
        axes[0].legend(fontsize=7, ncol=2)
    status = Status(int(ds["status"].values))
    attrs = ds.attrs
    header = (f"{attrs.get('model', '?')} model, target={attrs.get('target')}, sg={attrs.get('stop_gradient')}, "
              f"predictor={attrs.get('predictor')}; $\\sigma^2$={attrs.get('sigma2')}, $\\alpha_p$={attrs.get('alpha_p')}, "
              f"$\\beta$={attrs.get('beta')}, $\\eta$={attrs.get('eta')}")
    if status != Status.ok:
        t_stop = t[-1] if t.size else 0.0
        for ax in axes:
            ax.axvline(t_stop, color="red", ls=":", lw=1.2)
        fig.suptitle(f"{header}\nSTATUS {status.name.upper()} at t = {t_stop:g}: {STATUS_MESSAGES[status]}",
                     color="red", fontsize=9)
    else:
        fig.suptitle(header, fontsize=9)
    return fig
