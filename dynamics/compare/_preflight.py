r"""`preflight(config)`: the linear theory's prediction of a run before any training.

The network is built and the data loaded exactly as `train` would, the probe set is measured on the
initial network (`eig_F`, `eig_C`, `p`, `tau`: the same quantities as a log's first row), and the eigenmode
model (T11)-(T13b) is integrated over the run's whole flow time (its learning-rate schedule mapped by
THEORY.md §1) with the run's rates, the EMA rate per logging interval. It answers "will this configuration
collapse?" in seconds: which modes are predicted to collapse, when the spectrum settles, and whether the
weight decay exceeds the threshold $\eta^* = \tau^2 / (4\lambda_s)$ of (T17) at $\tau = 1$.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr

from ..bridge import TrainConfig
from ..sweep import time_to_converge
from ._compare import OUTCOMES, _by_rank, _counts, _run_collapsed, classify
from ._predict import mode_inputs, predict_modes

__all__ = ["preflight"]


def _initial_log(config: TrainConfig) -> tuple[xr.Dataset, Any]:
    import jax

    from ..bridge import build_log, prepare_run, replicate, spectral_row, to_host
    from ..integrate import Status

    run = prepare_run(config)
    with jax.enable_x64(False):
        state = replicate(run.state0, run.mesh)
        row = spectral_row(to_host(run.measure(state, run.probe)), config.predictor_lr_mult, balance=False)
    row.pop("U")
    row.pop("balance_gram", None)
    steps = np.unique(np.concatenate([np.arange(0, run.total, run.log_every), [run.total]]))
    rows = []
    for k in steps:
        lr = run.lr(min(int(k), run.total - 1))
        gamma = float(run.ema(min(int(k), run.total - 1)))
        beta = (1 - gamma) * (1 - config.momentum) / (config.loss_scale * lr) if lr > 0 else math.inf
        rows.append({**(row if k == 0 else {}), "step": int(k), "epoch": k / run.spe, "time": float(run.times[k]),
                     "lr": lr, "ema_momentum": gamma, "beta": beta})
    rates = run.rates
    attrs = {**config.method_attrs(), "alpha_p": rates.alpha_p, "beta": rates.beta, "eta": rates.eta, "eta_p": rates.eta_p,
             "target": run.spec.target, "stop_gradient": str(run.spec.stop_gradient).lower(),
             "predictor": run.spec.predictor, "loss_name": run.spec.loss}
    return build_log(config, rows, attrs, Status.ok), run


def preflight(config: TrainConfig) -> dict[str, Any]:
    """The prediction of `config`'s run from its initial network and data alone (no training).

    **Returns:** a JSON-ready dict: the mapped rates, the estimated sigma^2, eta against eta*, the
    predicted outcome counts and per-mode outcomes at the end of the run, whether the run collapses, and
    the flow time (and epoch) by which the predicted spectrum settles (every surviving mode within 1% of
    its final value)."""
    from ..config import ConfigError

    mapping = config.method_attrs()["flow_mapping"]
    if mapping.startswith("none"):
        raise ConfigError("method", config.method, f"has no linear-theory flow to predict it with ({mapping})")
    log, run = _initial_log(config)
    inp = mode_inputs(log)
    pred = predict_modes(inp)
    times = inp.times
    s, p, tau = _by_rank(pred["s"].values, pred["p"].values, pred["tau"].values)
    scale0 = max(float(np.max(inp.s0)), 1e-300)
    alive0 = inp.s0 > 0
    trained = inp.predictor in ("trained", "symmetric") and inp.loss == "euclidean"
    out = classify(times, s, p, tau, inp.lam_s, inp.eta, scale0, trained)
    ranks = np.arange(len(inp.s0)) < int(alive0.sum())
    settle = time_to_converge(times, s[:, ranks])
    alive_end = s[-1, ranks] > 1e-3 * scale0
    settle_t = float(np.nanmax(settle[alive_end])) if alive_end.any() else float(np.nanmax(settle))
    lam = float(np.mean(inp.lam_s[alive0])) if alive0.any() else math.nan
    eta_star = 1.0 / (4.0 * lam) if lam > 0 else math.nan
    epoch = float(np.interp(settle_t, times, log["epoch"].values)) if np.isfinite(settle_t) else math.nan
    return {
        "method": config.method, "model": config.model, "dataset": config.dataset,
        "target": inp.target, "stop_gradient": inp.stop_gradient, "predictor": inp.predictor, "loss": inp.loss,
        "alpha_p": inp.alpha_p, "beta_start": float(inp.betas[0]), "eta": inp.eta, "eta_p": inp.eta_p,
        "sigma2_estimate": inp.sigma2, "eta_star": eta_star, "eta_exceeds_eta_star": bool(inp.eta > eta_star),
        "t_max": float(times[-1]), "epochs": float(log["epoch"].values[-1]), "modes": int(alive0.sum()),
        "predicted_outcomes": _counts(out[ranks]),
        "collapses": _run_collapsed(out[ranks], s[-1]),
        "settles_at_time": settle_t, "settles_at_epoch": epoch,
        "per_mode": [OUTCOMES[int(k)] for k in out[ranks]],
        "prediction_status": int(pred["status"]),
        "device": str(run.mesh.devices.flat[0].device_kind),
    }
