"""Eigenmode runs shared by the claims of [HLZ23] (§7, `_claims_hlz23`) and [RTT23] (§8,
`_claims_rtt23`): SimSiam eigenmode configurations under A2, the scipy DOP853 reference at rtol 1e-10,
and what the claims read from a run (reached values, fitted log slopes, the separatrix of a ladder of
starts, a scalar reference ODE)."""

from __future__ import annotations

import numpy as np

__all__ = ["SIGMA2", "TIGHT", "N_SAVE", "modes_config", "run", "reached", "log_slopes", "worst", "max_rel_error",
           "separatrix", "scalar_reference", "fmt"]

SIGMA2 = 0.5
TIGHT = dict(rtol=1e-10, atol=1e-12)
#: Saved times of every run, and 4 modes per eigenmode run: `simulate`'s diagnostics (kernel entropy,
#: the predictor record) compile once per array shape, so one shape keeps the quick subset fast.
N_SAVE = 61


def modes_config(s0, **kw):
    """SimSiam eigenmode run under A2 (σ² = 0.5), no weight decay, scipy DOP853 at rtol 1e-10."""
    from dynamics import Config

    s0 = tuple(float(v) for v in s0)
    base = dict(model="modes", n1=len(s0), n2=len(s0), s0=s0, target="online", eta=0.0, sigma2=SIGMA2,
                solver="scipy-dop853", n_save=N_SAVE, **TIGHT)
    base.update(kw)
    return Config(**base)


def run(config):
    """`dynamics.simulate`, looked up at call time (tests patch the flows it reads)."""
    import dynamics

    return dynamics.simulate(config)


def reached(ds, name="s"):
    """(t, values) at the saved times that the run reached."""
    keep = np.asarray(ds.reached.values, bool)
    return ds.time.values[keep], np.asarray(ds[name].values, float)[keep]


def log_slopes(t, lam, lo, hi, min_points=3):
    """Per mode, the least-squares slope of log λ(t) over the saved points with lo < λ < hi (NaN
    when fewer than `min_points` fall in the window)."""
    out = np.full(lam.shape[1], np.nan)
    for j in range(lam.shape[1]):
        keep = np.isfinite(lam[:, j]) & (lam[:, j] > lo) & (lam[:, j] < hi)
        if keep.sum() >= min_points:
            out[j] = np.polyfit(t[keep], np.log(lam[keep, j]), 1)[0]
    return out


def worst(values, predicted):
    """The entry of `values` farthest from `predicted` (relative); NaN if any entry is NaN."""
    v = np.asarray(values, float).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        return float("nan")
    return float(v[np.argmax(np.abs(v - predicted))])


def max_rel_error(values, predicted):
    """max |values / predicted − 1| (NaN if anything is non-finite)."""
    err = np.abs(np.asarray(values, float) / np.asarray(predicted, float) - 1.0)
    return float(np.max(err)) if np.all(np.isfinite(err)) else float("nan")


def separatrix(lam0, fates):
    """The threshold between the modes that went down ("low") and up ("high") on a ladder of
    starts: the geometric mean of the largest "low" start and the smallest "high" start; NaN when
    one side is empty, when the two sides interleave, or when any mode did neither ("none")."""
    lam0, fates = np.asarray(lam0, float), np.asarray(fates)
    low, high = lam0[fates == "low"], lam0[fates == "high"]
    if (fates == "none").any() or low.size == 0 or high.size == 0 or low.max() >= high.min():
        return float("nan")
    return float(np.sqrt(low.max() * high.min()))


def scalar_reference(rate, lam0, ts):
    """Integrate dλ/dt = rate(λ) (the typed formula) per mode with scipy DOP853 at rtol 1e-11."""
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda t, y: rate(y), (0.0, float(ts[-1])), np.asarray(lam0, float), t_eval=ts,
                    method="DOP853", rtol=1e-11, atol=1e-14)
    return sol.y.T


def fmt(values):
    return "(" + ", ".join(f"{v:.4g}" for v in np.ravel(values)) + ")"
