"""The run's log as an xarray Dataset in the simulator's schema (`time` = flow time, `mode`)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import xarray as xr

from .._version import __version__
from ..integrate import STATUS_MESSAGES, Status, status_flag_attrs
from ._config import TrainConfig

__all__ = ["build_log", "LONG_NAMES", "software_versions"]

#: Per-time variables and their meaning (units: flow time for `time`).
LONG_NAMES = {
    "eig_F": "eigenvalues of F^ = sym E[f_a f_b^T] (different views) of the predictor input on the probe set",
    "eig_F_initial_basis": "u_j(0)^T F^ u_j(0): F^ in the eigenbasis of the first row (each initial mode in time)",
    "eig_C": "u_j^T C^ u_j, C^ = E[f_a f_a^T] (same view), in F^'s eigenbasis",
    "tau": "tau_j = u_j^T E[g_b f_a^T] u_j / eig_F_j (target / online ratio per mode)",
    "eig_Wp": "eigenvalues of the symmetric part of the predictor Wp (linear and closed-form predictors)",
    "p": "u_j^T Wp u_j, the predictor in F^'s eigenbasis",
    "commutator": "||[F^, Wp]||_F (Theorem 3)",
    "commutator_relative": "||[F^, Wp]||_F / (||F^||_F ||Wp||_F)",
    "alignment": "||diag(U^T Wp_sym U)||^2 / ||Wp_sym||_F^2: 1 when Wp is diagonal in F^'s eigenbasis",
    "balance_residual": "relative residual of Theorem 1 (T6) for the layer feeding the predictor",
    "effective_rank": "exp(entropy of the normalized eigenvalues of F^)",
    "participation_ratio": "(sum of eig_F)^2 / sum of eig_F^2",
    "kernel_entropy": "vMF kernel entropy (T28, kappa 10) of the normalized predictor inputs of the probe set",
    "loss": "training loss, mean over the steps since the previous row",
    "online_probe_train_accuracy": "online probe accuracy on the training batches since the previous row",
    "knn_accuracy": "weighted kNN accuracy (k, T in the attributes) on the test split; NaN where not evaluated",
    "online_probe_accuracy": "test accuracy of the online linear probe; NaN where not evaluated",
    "lr": "learning rate at this step",
    "ema_momentum": "EMA momentum gamma at this step",
    "beta": "flow EMA rate (1 - gamma)(1 - mu) / (k lr) at this step (THEORY.md §1)",
    "images_per_second": "training throughput since the previous row",
    "W": "online weights W (linear encoder)",
    "Wp": "predictor Wp (column convention, p = Wp f)",
    "Wa": "target weights Wa (linear encoder)",
    "reached": "True where the row was computed",
}

_PER_MODE = ("eig_F", "eig_F_initial_basis", "eig_C", "tau", "eig_Wp", "p")
_SCALARS = ("commutator", "commutator_relative", "alignment", "balance_residual", "effective_rank",
            "participation_ratio", "kernel_entropy", "loss", "online_probe_train_accuracy", "knn_accuracy",
            "online_probe_accuracy", "lr", "ema_momentum", "beta", "images_per_second")


def software_versions() -> dict[str, str]:
    """Versions of the libraries a run depends on."""
    import importlib.metadata as md

    out = {"dynamics_version": __version__}
    for name in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy", "scikit-learn"):
        try:
            out[f"version_{name.replace('-', '_')}"] = md.version(name)
        except md.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[f"version_{name.replace('-', '_')}"] = "missing"
    return out


def _column(rows: list[dict[str, Any]], name: str, width: int | None = None) -> np.ndarray:
    if width is None:
        return np.asarray([float(r.get(name, math.nan)) for r in rows], dtype=np.float64)
    out = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        if r.get(name) is not None:
            out[i] = np.asarray(r[name], dtype=np.float64)
    return out


def build_log(config: TrainConfig, rows: list[dict[str, Any]], attrs: dict[str, Any], status: Status) -> xr.Dataset:
    """The Dataset of `rows` (one per logging step; see `LONG_NAMES`), coordinates `time` (flow time),
    `step`, `epoch` (on `time`), `mode`; `attrs` added to the configuration's flat attributes."""
    d = config.predictor_dim
    data: dict[str, Any] = {}
    for name in _PER_MODE:
        if any(r.get(name) is not None for r in rows):
            data[name] = (("time", "mode"), _column(rows, name, d))
    for name in _SCALARS:
        data[name] = (("time",), _column(rows, name))
    for name, dims in (("W", ("time", "i", "j")), ("Wp", ("time", "i", "k")), ("Wa", ("time", "i", "j"))):
        if rows and rows[0].get(name) is not None:
            data[name] = (dims, np.asarray([r[name] for r in rows], dtype=np.float64))
    data["reached"] = (("time",), np.ones(len(rows), dtype=bool))
    coords = {"time": np.asarray([r["time"] for r in rows], dtype=np.float64),
              "step": ("time", np.asarray([r["step"] for r in rows], dtype=np.int64)),
              "epoch": ("time", np.asarray([r["epoch"] for r in rows], dtype=np.float64)),
              "mode": np.arange(d)}
    ds = xr.Dataset(data, coords=coords)
    for name in ds.data_vars:
        if name in LONG_NAMES:
            ds[name].attrs["long_name"] = LONG_NAMES[name]
    ds["time"].attrs["long_name"] = "flow time t = sum over steps of k lr / (1 - momentum) (THEORY.md §1)"
    ds["status"] = ((), np.int8(int(status)), status_flag_attrs())
    ds.attrs.update(config.flat_attrs())
    ds.attrs.update(attrs)
    ds.attrs.update(train_config_json=config.to_json(), simulator="bridge", status_name=status.name,
                    status_message=_status_message(status), **software_versions())
    for key, value in list(ds.attrs.items()):
        if isinstance(value, bool):
            ds.attrs[key] = int(value)
        elif value is None:
            ds.attrs[key] = "unset"
        elif isinstance(value, dict):
            ds.attrs[key] = json.dumps(value)
    return ds


def _status_message(status: Status) -> str:
    if status == Status.nonfinite:
        return "the training loss or the measured statistics became non-finite; the run stopped there"
    return STATUS_MESSAGES[status] if status != Status.ok else "trained for every step"
