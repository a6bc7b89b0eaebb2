r"""The linear theory's prediction of a training run: the eigenmode model (T11)-(T13b) integrated from the
run's measured initial spectra, with the run's own mapped rates (nothing fitted).

From the log (`dynamics.bridge` schema) at t = 0, per mode j of $\hat F$ (descending):

- $s_j(0)$ = `eig_F` (the theory's $F = W X W^T$, read in whitened units: $\lambda_{d,j} = 1$, so
  $s_j$ is $F$'s eigenvalue, as under assumption A2 where $F = W W^T$);
- $\lambda_{s,j}$ = `eig_C / eig_F` $= u_j^T \hat C u_j / u_j^T \hat F u_j$: the augmented over the clean
  correlation of the predictor input, $1 + \sigma^2$ under isotropy (T13b's $\lambda_s / \lambda_d$);
- $p_j(0)$ = `p` ($u_j^T W_p u_j$; an MLP predictor's least-squares linear fit), $\tau_j(0)$ = `tau`.

The rates are the log's: $\alpha_p$, $\eta$, $\eta_p$ (constant) and $\beta$ per logged row (BYOL's EMA
schedule and a varying learning rate make $\beta$ vary: it is held piecewise constant between rows). The
gradient path follows the run: EMA or SimSiam target, stop-gradient or not, trained / identity /
closed-form predictor, Euclidean loss (exact expectation) or cosine loss (the mean field, T25).
"""

from __future__ import annotations

from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from ..bridge import training_config
from ..config import CLOSED_FORM_PREDICTORS, ConfigError
from ..flows import GradientPath, ModeArgs, ModeWeights, mode_predictor_record, mode_weight_flow
from ..integrate import Status, solve

__all__ = ["ModeInputs", "mode_inputs", "predict_modes", "MAPPED_RATES"]

#: The rates a comparison maps from the run (and that `scale` may deliberately distort).
MAPPED_RATES = ("alpha_p", "beta", "eta", "eta_p", "time")
_TINY = 1e-12


class ModeInputs:
    """What the eigenmode model needs from a run (see the module docstring)."""

    def __init__(self, log: xr.Dataset, scale: Mapping[str, float] | None = None):
        config = training_config(log)
        if str(log.attrs.get("flow_mapping", "")).startswith("none"):
            raise ConfigError("method", config.method, "has no linear-theory flow to predict it with"
                              f" (flow_mapping: {log.attrs['flow_mapping']})")
        scale = dict(scale or {})
        bad = [k for k in scale if k not in MAPPED_RATES]
        if bad:
            raise ConfigError("scale", bad[0], f"must be one of {', '.join(MAPPED_RATES)}")
        for name in ("eig_F", "eig_C", "tau", "time"):
            if name not in log.variables:
                raise ConfigError("log", log.attrs.get("simulator", "?"), f"has no {name}: not a training log of"
                                  " ssl-dynamics train")
        reached = valid_rows(log)
        self.times = log["time"].values[reached] * scale.get("time", 1.0)
        if self.times.size < 2:
            status = log.attrs.get("status_name", "ok")
            why = (f"the run stopped with status {status} before its second logged row (lower the learning rate,"
                   " or log more often)" if status != "ok" else "needs at least two logged rows to compare")
            raise ConfigError("log", f"{self.times.size} usable row(s)", why)
        eig_F0 = np.asarray(log["eig_F"].values[0], np.float64)
        eig_C0 = np.asarray(log["eig_C"].values[0], np.float64)
        top = max(float(np.max(eig_F0)), _TINY)
        alive = eig_F0 > 1e-9 * top
        self.s0 = np.where(alive, np.clip(eig_F0, 0.0, None), 0.0)
        self.lam_s = np.where(alive, np.clip(eig_C0 / np.where(alive, eig_F0, 1.0), 1.0, None), 1.0)
        self.lam_d = np.ones_like(self.s0)
        a = log.attrs
        self.target = str(a.get("target", "ema"))
        self.stop_gradient = "target" if str(a.get("stop_gradient", "true")) == "true" else "none"
        predictor = str(a.get("predictor", "linear"))
        self.closed_form = predictor in CLOSED_FORM_PREDICTORS
        self.predictor = {"linear": "trained", "symmetric": "symmetric", "mlp": "trained"}.get(predictor, predictor)
        self.loss = str(a.get("loss_name", "euclidean"))
        tau0 = np.asarray(log["tau"].values[0], np.float64)
        self.tau0 = np.where(np.isfinite(tau0), tau0, 1.0) if self.target == "ema" else np.ones_like(self.s0)
        p0 = np.asarray(log["p"].values[0], np.float64) if "p" in log else np.ones_like(self.s0)
        self.p0 = np.where(np.isfinite(p0), p0, 0.0)
        self.alpha_p = float(a["alpha_p"]) * scale.get("alpha_p", 1.0)
        self.eta = float(a["eta"]) * scale.get("eta", 1.0)
        self.eta_p = float(a["eta_p"]) * scale.get("eta_p", 1.0)
        betas = np.asarray(log["beta"].values[reached], np.float64) if "beta" in log else np.full(self.times.size,
                                                                                                    float(a["beta"]))
        self.betas = np.where(np.isfinite(betas), betas, 0.0) * scale.get("beta", 1.0)
        self.predictor_alpha = config.predictor_alpha_effective
        self.predictor_eps = config.predictor_eps_effective
        self.eps_convention = config.predictor_eps_convention
        self.scale = scale

    @property
    def sigma2(self) -> float:
        """1 + sigma^2 estimated as the mean of lambda_s over the modes alive at t = 0, minus 1."""
        alive = self.s0 > 0
        return float(np.mean(self.lam_s[alive]) - 1.0) if alive.any() else float("nan")

    def path(self) -> GradientPath:
        expectation = "exact" if self.loss in ("euclidean", "isoloss_euclidean") else "mean_field"
        return GradientPath(self.target, self.stop_gradient, self.predictor, self.loss, expectation,
                            self.eps_convention)


def valid_rows(log: xr.Dataset) -> np.ndarray:
    """The rows of a training log that a comparison uses: those the run reached whose spectrum is finite (a run
    that overflowed, status `nonfinite`, is compared on the rows before it)."""
    reached = log["reached"].values.astype(bool) if "reached" in log else np.ones(log.sizes["time"], bool)
    if log.attrs.get("status_name", "ok") in ("nonfinite", "diverged"):
        reached &= np.all(np.isfinite(log["eig_F"].values), axis=1)
    return reached


def mode_inputs(log: xr.Dataset, scale: Mapping[str, float] | None = None) -> ModeInputs:
    """The eigenmode model's inputs read from a training log; `scale` multiplies mapped rates (a
    deliberately wrong mapping, for negative controls): keys `alpha_p`, `beta`, `eta`, `eta_p`, `time`."""
    return ModeInputs(log, scale)


def _args(inp: ModeInputs, beta: float) -> ModeArgs:
    extra = {}
    if inp.closed_form:
        extra = {"predictor_alpha": jnp.asarray(inp.predictor_alpha), "predictor_eps": jnp.asarray(inp.predictor_eps)}
    return ModeArgs(lam_d=jnp.asarray(inp.lam_d), lam_s=jnp.asarray(inp.lam_s), alpha_p=jnp.asarray(inp.alpha_p),
                    beta=jnp.asarray(beta), eta=jnp.asarray(inp.eta), eta_p=jnp.asarray(inp.eta_p), path=inp.path(),
                    **extra)


def predict_modes(inp: ModeInputs, *, rtol: float = 1e-8, atol: float = 1e-12) -> xr.Dataset:
    r"""Integrate (T11)-(T13b) (`mode_weight_flow`, all modes in one state) over the run's logged times.

    **Returns:** a Dataset on (time, mode): `s` (predicted eigenvalue of F for each initial mode), `p`
    (the predictor eigenvalue applied), `tau`, and `status` (a `Status` code). With a constant beta the
    whole span is one solve; otherwise one solve per logged interval, beta held at the interval's start."""
    with jax.enable_x64(True):
        w0 = np.sqrt(inp.s0)
        y = ModeWeights(jnp.asarray(inp.p0), jnp.asarray(w0), jnp.asarray(inp.tau0 * w0))
        ts = np.asarray(inp.times, np.float64)
        constant = np.allclose(inp.betas, inp.betas[0], rtol=1e-9, atol=0.0)
        status = Status.ok
        if constant or inp.target == "online":
            traj = solve(mode_weight_flow, y, _args(inp, float(inp.betas[0])), jnp.asarray(ts), rtol=rtol, atol=atol)
            ys = jax.tree_util.tree_map(np.asarray, traj.ys)
            status = Status(int(traj.status))
            args_last = _args(inp, float(inp.betas[0]))
        else:
            parts = [jax.tree_util.tree_map(lambda a: np.asarray(a)[None], y)]
            for k in range(len(ts) - 1):
                args_last = _args(inp, float(inp.betas[k]))
                traj = solve(mode_weight_flow, y, args_last, jnp.asarray(ts[k:k + 2]), rtol=rtol, atol=atol)
                if int(traj.status) != Status.ok:
                    status = Status(int(traj.status))
                    break
                y = jax.tree_util.tree_map(lambda a: a[-1], traj.ys)
                parts.append(jax.tree_util.tree_map(lambda a: np.asarray(a)[-1:], traj.ys))
            ys = jax.tree_util.tree_map(lambda *a: np.concatenate(a), *parts)
            if len(ys.w) < len(ts):
                pad = len(ts) - len(ys.w)
                ys = jax.tree_util.tree_map(lambda a: np.concatenate([a, np.full((pad,) + a.shape[1:], np.nan)]), ys)
        p = np.asarray(mode_predictor_record(jax.tree_util.tree_map(jnp.asarray, ys), args_last))
    w, wa = ys.w, ys.wa
    s = w**2
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(np.abs(w) > 0, wa / w, np.nan) if inp.target == "ema" else np.ones_like(w)
    d = len(inp.s0)
    ds = xr.Dataset({"s": (("time", "mode"), s), "p": (("time", "mode"), p), "tau": (("time", "mode"), tau),
                     "lam_s": (("mode",), inp.lam_s), "status": ((), np.int8(int(status)))},
                    coords={"time": ts, "mode": np.arange(d)})
    ds.attrs.update(theory="T11 T12 T13 T13b (T25 for the cosine loss)", sigma2_estimate=inp.sigma2,
                    alpha_p=inp.alpha_p, eta=inp.eta, eta_p=inp.eta_p,
                    beta="per logged row" if not np.allclose(inp.betas, inp.betas[0]) else float(inp.betas[0]),
                    path=f"target={inp.target} stop_gradient={inp.stop_gradient} predictor={inp.predictor}"
                         f" loss={inp.loss}", scale=str(inp.scale or "none"))
    return ds
