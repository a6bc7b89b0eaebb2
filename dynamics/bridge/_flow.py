"""The simulator's run that a training run of the theory's own network follows (THEORY.md §1)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..config import CLOSED_FORM_PREDICTORS, Config, ConfigError
from ._config import TrainConfig
from ._synthetic import synthetic_data_settings

__all__ = ["flow_config", "training_config"]

_PREDICTORS = {"linear": "trained", "symmetric": "symmetric", "identity": "identity"}


def training_config(log: xr.Dataset) -> TrainConfig:
    """The `TrainConfig` of a training log (from its `train_config_json` attribute).

    **Raises:** `ConfigError` when `log` is not a training log of this package."""
    if "train_config_json" not in log.attrs:
        raise ConfigError("log", log.attrs.get("simulator", "unknown"), "is not a training log of"
                          " ssl-dynamics train (no train_config_json attribute)")
    return TrainConfig.from_json(log.attrs["train_config_json"])


def flow_config(log: xr.Dataset, **changes) -> Config:
    r"""The `dynamics.Config` of the gradient flow (T2)-(T5) that a linear-encoder run on synthetic data
    follows: the run's data statistics, its gradient path, W(0), Wp(0), Wa(0) from the first logged
    weights, the mapped rates ($\alpha_p$, $\beta$, $\eta$, $\eta_p$ of the log's attributes) and the
    logged times (`t_max` = the last one, `n_save` = the number of rows). `changes` override fields
    (a deliberately wrong mapping, for instance).

    **Raises:** `ConfigError` when the run is not one the full-matrix flow describes: another model or
    dataset, a projector, an MLP predictor, or schedules that make the rates vary in time (the flow has
    constant rates; use `lr_schedule="constant"` and `ema_schedule="constant"`)."""
    config = training_config(log)
    spec = config.method_spec
    if config.model != "linear" or config.dataset != "synthetic" or "W" not in log:
        raise ConfigError("model", config.model, "the flow (T2)-(T5) describes the linear encoder on synthetic data")
    if spec.predictor not in _PREDICTORS and spec.predictor not in CLOSED_FORM_PREDICTORS:
        raise ConfigError("predictor", spec.predictor, "an MLP predictor has no counterpart in the linear flow")
    varying = [name for name in ("lr_schedule", "ema_schedule") if getattr(config, name) != "constant"]
    if varying and not (varying == ["ema_schedule"] and spec.target == "online"):
        raise ConfigError(varying[0], getattr(config, varying[0]), "the flow has constant rates: train with"
                          " constant schedules to compare with it")
    times = log["time"].values
    if not np.allclose(np.diff(times), times[1] - times[0], rtol=1e-6):
        raise ConfigError("log_every", config.log_every, "the logged times must be evenly spaced")
    W0, Wp0, Wa0 = (log[name].values[0].tolist() for name in ("W", "Wp", "Wa"))
    values = dict(
        model="full", n2=config.predictor_dim, **synthetic_data_settings(config), target=spec.target,
        stop_gradient="target" if spec.stop_gradient else "none",
        predictor=_PREDICTORS.get(spec.predictor, spec.predictor), loss=spec.loss,
        expectation="exact" if spec.loss in ("euclidean", "isoloss_euclidean") else "sampled",
        alpha_p=float(log.attrs["alpha_p"]), beta=0.0 if spec.target == "online" else float(log.attrs["beta"]),
        eta=float(log.attrs["eta"]), eta_p=float(log.attrs["eta_p"]), init="given", W0=W0,
        Wp0=Wp0 if spec.predictor in ("linear", "symmetric") else None, Wa0=None if spec.target == "online" else Wa0,
        t_max=float(times[-1]), n_save=len(times), save_spacing="linear")
    if spec.predictor in CLOSED_FORM_PREDICTORS:
        values.update(predictor_eps=config.predictor_eps_effective,
                      predictor_eps_convention=config.predictor_eps_convention)
        if config.predictor_alpha is not None:
            values["predictor_alpha"] = config.predictor_alpha
    values.update(changes)
    return Config(**values)
