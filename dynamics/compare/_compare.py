r"""`compare(log)`: the linear theory's prediction of a training run beside what the network did, with numbers.

Per initial mode j (the eigenvectors of $\hat F$ at t = 0, which the eigenmode model keeps fixed) the
measured `eig_F_initial_basis` is compared with the predicted $s_j(t)$:

- trajectory error: for a mode that collapses (measured or predicted final value below
  `COMPARE_THRESHOLDS["collapse"]` of the initial top eigenvalue) the mean over logged times of
  $|\log_{10} m - \log_{10} q|$ (decades; values floored at 1e-6 of the initial top), otherwise the mean
  of $|m - q|$ over $\max_t |m|$ (relative);
- outcome per mode, by the same rule for both: `collapsed`, `fixed_point` (alive, converged, p within 5%
  of $p^*_+$ of (T17) with the mode's $\lambda_s$ and final $\tau$; trained predictors), `not_converged`
  (moved by more than 5% over the last 10% of the flow time), else `non_collapsed`;
- the rank correlation (Spearman) of the modes' final values, predicted against measured;
- Theorem 1 at the layer feeding the predictor: measured `eig_F` against $p_j^2/\alpha_p$ at the end
  (least-squares slope and $R^2$ over the alive modes; slope 1 and $R^2$ 1 when T14 holds);
- Theorem 3: the measured decay rate of the commutator $\|[\hat F, W_p]\|$ (slope of its log against
  time) against $2\lambda_0$, $\lambda_0 = \min_{t,j} k_j$ with the per-mode eigenvalue of (T10)'s K,
  $k_j = \lambda_s[(\alpha_p/2)s_j + p_j^2 - \tau_j p_j/\lambda_s] + 3\eta/2$, from the measured values.

A run is "predicted" when the median relative error of the surviving modes is at most `relative`, the
median log error of the collapsing modes at most `log_decades`, and the outcomes agree on at least
`outcome_agreement` of the modes (`COMPARE_TOLERANCES`, justified in README: the theory's own network
is predicted to a few percent, so these leave room for SGD noise and not for a wrong mapping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import xarray as xr

from ..bridge import training_config
from ..results import effective_rank
from ..sweep import stable_fixed_point
from ._predict import ModeInputs, mode_inputs, predict_modes, valid_rows

__all__ = ["compare", "Comparison", "COMPARE_THRESHOLDS", "COMPARE_TOLERANCES", "classify", "OUTCOMES"]

#: Outcome rule shared by measurement and prediction.
COMPARE_THRESHOLDS = {"collapse": 1e-3, "floor": 1e-6, "converged": 0.05, "tail": 0.1, "fixed_point": 0.05,
                      "rank_collapse": 1.5}
#: What "predicted" means (see the module docstring).
COMPARE_TOLERANCES = {"relative": 0.02, "log_decades": 0.5, "outcome_agreement": 0.9}
OUTCOMES = ("collapsed", "fixed_point", "non_collapsed", "not_converged")


def classify(times: np.ndarray, s: np.ndarray, p: np.ndarray | None, tau: np.ndarray | None, lam_s: np.ndarray,
             eta: float, scale0: float, trained: bool) -> np.ndarray:
    """Outcome index (into `OUTCOMES`) per mode from trajectories `s` (time x mode)."""
    th = COMPARE_THRESHOLDS
    final = s[-1]
    tail = np.searchsorted(times, times[-1] - th["tail"] * (times[-1] - times[0]))
    tail = min(tail, len(times) - 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        moving = np.abs(final - s[tail]) > th["converged"] * np.maximum(np.abs(final), th["floor"] * scale0)
    out = np.full(final.shape, OUTCOMES.index("non_collapsed"))
    if trained and p is not None and tau is not None:
        tau_end = np.where(np.isfinite(tau[-1]), tau[-1], 1.0)
        p_star = stable_fixed_point(tau_end, 1.0, lam_s, eta)
        with np.errstate(invalid="ignore"):
            at_star = np.abs(p[-1] - p_star) <= th["fixed_point"] * np.abs(p_star)
        out = np.where(at_star, OUTCOMES.index("fixed_point"), out)
    out = np.where(moving, OUTCOMES.index("not_converged"), out)
    return np.where(~(final > th["collapse"] * scale0), OUTCOMES.index("collapsed"), out)


def _errors(times, measured: np.ndarray, predicted: np.ndarray, scale0: float) -> tuple[np.ndarray, np.ndarray]:
    """(error per mode, collapsing mask)."""
    th = COMPARE_THRESHOLDS
    collapsing = ~(measured[-1] > th["collapse"] * scale0) | ~(predicted[-1] > th["collapse"] * scale0)
    floor = th["floor"] * scale0
    with np.errstate(invalid="ignore", divide="ignore"):
        log_err = np.nanmean(np.abs(np.log10(np.maximum(measured, floor)) - np.log10(np.maximum(predicted, floor))),
                             axis=0)
        rel_err = np.nanmean(np.abs(measured - predicted), axis=0) / np.maximum(np.nanmax(np.abs(measured), axis=0),
                                                                                floor)
    return np.where(collapsing, log_err, rel_err), collapsing


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return math.nan
    ra = np.argsort(np.argsort(a[ok])).astype(float)
    rb = np.argsort(np.argsort(b[ok])).astype(float)
    if ra.std() == 0 or rb.std() == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and R^2 of y = a x + b."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0:
        return math.nan, math.nan
    a, b = np.polyfit(x[ok], y[ok], 1)
    resid = y[ok] - (a * x[ok] + b)
    total = np.sum((y[ok] - y[ok].mean()) ** 2)
    return float(a), float(1.0 - np.sum(resid**2) / total) if total > 0 else math.nan


@dataclass
class Comparison:
    """A run's measurement, its prediction and the summary (`summary` is JSON-ready)."""

    log: xr.Dataset
    prediction: xr.Dataset
    inputs: ModeInputs
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def predicted(self) -> bool:
        return bool(self.summary["predicted"])


def _by_rank(s: np.ndarray, *others: np.ndarray | None) -> list[np.ndarray | None]:
    """Sort the modes of `s` (time x mode) in descending order at every time, and `others` alike."""
    order = np.argsort(-np.where(np.isfinite(s), s, -np.inf), axis=1)
    return [np.take_along_axis(s, order, axis=1)] + [None if o is None else np.take_along_axis(o, order, axis=1)
                                                     for o in others]


def compare(log: xr.Dataset, *, scale: Mapping[str, float] | None = None, name: str | None = None) -> Comparison:
    """Predict the run `log` (a `dynamics.bridge.train` log) from the linear theory and measure the difference.

    Two views of the same prediction:

    - the spectrum (rank-wise: the j-th largest predicted eigenvalue against the j-th largest measured
      `eig_F` at every time): trajectory errors, outcomes, and the verdict `predicted`;
    - each initial mode (the predicted $s_j$ against `eig_F_initial_basis`, F^ in its first eigenbasis):
      errors and the rank correlation of the final values (which modes win).

    **Arguments:** `log`; `scale`: multiply mapped rates (`alpha_p`, `beta`, `eta`, `eta_p`, `time`) — a
    deliberately wrong mapping for negative controls; `name`: the run's label in the summary.

    **Returns:** a `Comparison` whose `summary` holds the settings, per-mode errors and outcomes, overall
    errors, rank correlation, outcome agreement, the Theorem 1 and Theorem 3 checks, and `predicted`.

    **Raises:** `ConfigError` for a log that is not a training log or has fewer than two rows.
    """
    config = training_config(log)
    inp = mode_inputs(log, scale)
    pred = predict_modes(inp)
    reached = valid_rows(log)  # a run that overflowed is compared on its finite rows; the summary says it diverged
    times = inp.times
    scale0 = max(float(np.max(inp.s0)), 1e-300)
    alive0 = inp.s0 > 0
    # the spectrum, rank-wise
    meas_s = np.asarray(log["eig_F"].values[reached], np.float64)
    meas_p = log["p"].values[reached] if "p" in log else None
    meas_tau = log["tau"].values[reached]
    pred_s, pred_p, pred_tau = _by_rank(pred["s"].values, pred["p"].values, pred["tau"].values)
    errors, collapsing = _errors(times, meas_s, pred_s, scale0)
    trained = inp.predictor in ("trained", "symmetric") and inp.loss == "euclidean"
    lam_rank = np.sort(inp.lam_s)  # lambda_s is only used through p*_+; rank-wise it is nearly flat
    lam_rank = inp.lam_s if np.allclose(inp.lam_s, inp.lam_s[0], rtol=0.05) else lam_rank
    meas_out = classify(times, meas_s, meas_p, meas_tau, lam_rank, inp.eta, scale0, trained)
    pred_out = classify(times, pred_s, pred_p, pred_tau, lam_rank, inp.eta, scale0, trained)
    n_alive = int(alive0.sum())
    ranks = np.arange(len(inp.s0)) < n_alive
    agree = float(np.mean((meas_out == pred_out)[ranks])) if n_alive else math.nan
    rel, logs = errors[~collapsing & ranks], errors[collapsing & ranks]
    tol = COMPARE_TOLERANCES
    median_rel = float(np.median(rel)) if rel.size else math.nan
    median_log = float(np.median(logs)) if logs.size else math.nan
    predicted_ok = ((not rel.size or median_rel <= tol["relative"]) and (not logs.size or median_log <= tol["log_decades"])
                    and (math.isnan(agree) or agree >= tol["outcome_agreement"]) and int(pred["status"]) == 0)
    # each initial mode
    per_mode = np.asarray(log["eig_F_initial_basis"].values[reached] if "eig_F_initial_basis" in log else meas_s,
                          np.float64)
    mode_errors, mode_collapsing = _errors(times, per_mode, pred["s"].values, scale0)
    summary: dict[str, Any] = {
        "run": name or log.attrs.get("train_method", "run"),
        "method": config.method, "model": config.model, "dataset": config.dataset,
        "target": inp.target, "stop_gradient": inp.stop_gradient, "predictor": inp.predictor, "loss": inp.loss,
        "alpha_p": inp.alpha_p, "beta": float(np.median(inp.betas)) if inp.target == "ema" else None,
        "eta": inp.eta, "eta_p": inp.eta_p, "sigma2_estimate": inp.sigma2, "scale": dict(scale or {}),
        "t_max": float(times[-1]), "rows": int(times.size), "modes": n_alive,
        "partial": bool(int(log.attrs.get("partial", 0))) or log.attrs.get("status_name", "ok") != "ok",
        "status": log.attrs.get("status_name", "ok"), "prediction_status": int(pred["status"]),
        "median_relative_error": median_rel, "median_log_error": median_log,
        "top_mode_error": float(errors[0]) if errors.size else math.nan,
        "collapsing_modes": int((collapsing & ranks).sum()),
        "initial_mode_median_error": float(np.median(mode_errors[alive0])) if n_alive else math.nan,
        "rank_correlation": _spearman(per_mode[-1][alive0], pred["s"].values[-1][alive0]),
        "outcome_agreement": agree,
        "measured_outcomes": _counts(meas_out[ranks]), "predicted_outcomes": _counts(pred_out[ranks]),
        "effective_rank_measured": float(effective_rank(meas_s[-1])),
        "effective_rank_predicted": float(effective_rank(pred_s[-1])),
        "run_diverged_measured": log.attrs.get("status_name", "ok") in ("nonfinite", "diverged"),
        "run_collapsed_measured": _run_collapsed(meas_out[ranks], meas_s[-1]),
        "run_collapsed_predicted": _run_collapsed(pred_out[ranks], pred_s[-1]),
        "per_mode": [{"rank": int(j), "error": float(errors[j]), "collapsing": bool(collapsing[j]),
                      "measured": OUTCOMES[int(meas_out[j])], "predicted": OUTCOMES[int(pred_out[j])],
                      "initial_mode_error": float(mode_errors[j]), "initial_mode_collapsing": bool(mode_collapsing[j])}
                     for j in np.flatnonzero(ranks)],
        "tolerances": dict(tol),
    }
    summary.update(_theorems(log, reached, inp, times))
    summary["predicted"] = bool(predicted_ok)
    return Comparison(log, pred, inp, summary)


def _counts(outcomes: np.ndarray) -> dict[str, int]:
    return {name: int(np.sum(outcomes == k)) for k, name in enumerate(OUTCOMES)}


def _run_collapsed(outcomes: np.ndarray, final: np.ndarray) -> bool:
    """The run collapses when at most one mode survives, or when the final spectrum's effective rank is
    below `COMPARE_THRESHOLDS["rank_collapse"]` (dimensional collapse to about one direction)."""
    alive = int(np.sum(outcomes != OUTCOMES.index("collapsed")))
    rank = float(effective_rank(final))
    return alive <= 1 or (np.isfinite(rank) and rank < COMPARE_THRESHOLDS["rank_collapse"])


def _theorems(log: xr.Dataset, reached: np.ndarray, inp: ModeInputs, times: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "p" not in log:
        return {"theorem1_slope": math.nan, "theorem1_r2": math.nan, "theorem3_measured_rate": math.nan,
                "theorem3_predicted_rate": math.nan}
    s_end = log["eig_F"].values[reached][-1]
    p_end = log["p"].values[reached][-1]
    alive = s_end > COMPARE_THRESHOLDS["collapse"] * max(float(np.max(inp.s0)), 1e-300)
    slope, r2 = _fit((p_end**2 / inp.alpha_p)[alive], s_end[alive])
    out.update(theorem1_slope=slope, theorem1_r2=r2)
    comm = log["commutator"].values[reached] if "commutator" in log else np.full(times.size, np.nan)
    ok = np.isfinite(comm) & (comm > 0)
    rate = -float(np.polyfit(times[ok], np.log(comm[ok]), 1)[0]) if ok.sum() >= 3 else math.nan
    lam = float(np.mean(inp.lam_s[inp.s0 > 0])) if np.any(inp.s0 > 0) else 1.0
    s, p = log["eig_F"].values[reached], log["p"].values[reached]
    tau = np.where(np.isfinite(log["tau"].values[reached]), log["tau"].values[reached], 1.0)
    k = lam * (0.5 * inp.alpha_p * s + p**2 - tau * p / lam) + 1.5 * inp.eta
    lam0 = float(np.nanmin(k)) if np.isfinite(k).any() else math.nan
    out.update(theorem3_measured_rate=rate, theorem3_predicted_rate=2.0 * lam0,
               theorem3_bound_applies=bool(lam0 > 0))
    return out
