"""The shared result schema: an xarray Dataset per simulation (documented in README.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from .._version import __version__
from ..config import Config
from ..integrate import STATUS_MESSAGES, Status, status_flag_attrs
from ._diagnostics import full_diagnostics, mode_diagnostics

__all__ = ["full_dataset", "modes_dataset", "theory_equations"]

_LONG_NAMES = {
    "W": "online weights W",
    "Wp": "predictor weights Wp",
    "Wa": "target weights Wa",
    "eig_F": "eigenvalues of F = W X W^T",
    "eig_Wp": "eigenvalues of the symmetric part of Wp",
    "p": "predictor eigenvalue p_j of mode j",
    "s": "s_j = w_j^2, eigenvalue of W W^T on mode j",
    "tau": "tau_j = target/online ratio on mode j",
    "loss": "expected BYOL loss (T1)",
    "balance_residual": "relative residual of Theorem 1 (T6)",
    "reached": "True where the trajectory was computed",
}


def theory_equations(config: Config) -> str:
    """THEORY.md equation numbers that the run integrates."""
    if config.model == "modes":
        eqs = ["T11", "T12", "T13" if config.target == "ema" else "T13(SimSiam)", "T13b", "T14"]
    else:
        eqs = ["T1", "T2", "T3", "T4" if config.target == "ema" else "SimSiam(Wa=W)", "T6"]
        if config.stop_gradient == "none" and config.target == "online":
            eqs.append("T5")
        if config.predictor == "symmetric":
            eqs.append("T8")
    return " ".join(eqs)


def _pad(values: np.ndarray, reached: np.ndarray) -> np.ndarray:
    out = np.full((reached.size,) + values.shape[1:], np.nan)
    out[: values.shape[0]] = values
    return out


def _attrs(config: Config, status: int, num_steps: int, extra: dict[str, Any]) -> dict[str, Any]:
    attrs = dict(config.flat_attrs())
    attrs.update(
        config_json=config.to_json(),
        dynamics_version=__version__,
        theory=theory_equations(config),
        status_name=Status(status).name,
        status_message=STATUS_MESSAGES[Status(status)],
        num_steps=int(num_steps),
    )
    attrs.update(extra)
    return attrs


def _finish(data_vars: dict, coords: dict, config: Config, status: int, reached: np.ndarray,
            num_steps: int, extra: dict) -> xr.Dataset:
    data_vars["reached"] = ("time", reached.astype(bool))
    data_vars["status"] = ((), np.int8(status), status_flag_attrs())
    ds = xr.Dataset(data_vars, coords=coords, attrs=_attrs(config, status, num_steps, extra))
    for name, long in _LONG_NAMES.items():
        if name in ds:
            ds[name].attrs.setdefault("long_name", long)
    ds["time"].attrs["long_name"] = "flow time t (effective learning rate x steps)"
    return ds


def full_dataset(config: Config, ts: np.ndarray, W: np.ndarray, Wp: np.ndarray, Wa: np.ndarray,
                 X: np.ndarray, XS: np.ndarray, status: int, reached: np.ndarray, num_steps: int,
                 extra: dict | None = None) -> xr.Dataset:
    """Dataset of a full-model run: weights over time plus the diagnostics of `full_diagnostics`."""
    n = int(reached.sum())
    diag = full_diagnostics(W[:n], Wp[:n], Wa[:n], X, XS, ts[:n], config.alpha_p, config.eta)
    data_vars = {
        "W": (("time", "i", "j"), W),
        "Wp": (("time", "i", "k"), Wp),
        "Wa": (("time", "i", "j"), Wa),
    }
    for name in ("eig_F", "eig_Wp", "p", "tau"):
        data_vars[name] = (("time", "mode"), _pad(diag[name], reached))
    for name in ("loss", "balance_residual"):
        data_vars[name] = ("time", _pad(diag[name], reached))
    coords = {"time": ts, "mode": np.arange(config.n2), "i": np.arange(config.n2),
              "j": np.arange(config.n1), "k": np.arange(config.n2)}
    return _finish(data_vars, coords, config, status, reached, num_steps, extra or {})


def modes_dataset(config: Config, ts: np.ndarray, p: np.ndarray, s: np.ndarray, tau: np.ndarray,
                  lam_d: np.ndarray, lam_s: np.ndarray, status: int, reached: np.ndarray, num_steps: int,
                  extra: dict | None = None) -> xr.Dataset:
    """Dataset of an eigenmode-model run: p, s, tau per mode plus `mode_diagnostics`."""
    diag = mode_diagnostics(p, s, tau, lam_d, lam_s, ts, config.alpha_p, config.eta)
    data_vars = {"p": (("time", "mode"), p), "s": (("time", "mode"), s)}
    for name in ("eig_F", "eig_Wp", "tau"):
        data_vars[name] = (("time", "mode"), diag[name])
    for name in ("loss", "balance_residual"):
        data_vars[name] = ("time", diag[name])
    data_vars["lambda_d"] = ("mode", lam_d, {"long_name": "eigenvalue of X on mode j"})
    data_vars["lambda_s"] = ("mode", lam_s, {"long_name": "eigenvalue of X + X' on mode j"})
    coords = {"time": ts, "mode": np.arange(config.n2)}
    return _finish(data_vars, coords, config, status, reached, num_steps, extra or {})
