"""The shared result schema: an xarray Dataset per simulation (documented in README.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from .._version import __version__
from ..config import Config
from ..integrate import STATUS_MESSAGES, Status, status_flag_attrs
from ._diagnostics import full_diagnostics, mode_diagnostics

__all__ = ["full_dataset", "modes_dataset", "theory_equations", "flow_notes"]

_PREDICTOR_EQUATIONS = {"power": "T21", "power_normalized": "T19 T20", "directpred": "T19 T20",
                        "directcopy": "T19", "ridge_lstsq": "T26", "soft_projector": "§8", "inverse_sqrt": "§8"}
_SHAPE_DIAGNOSTICS = ("commutator", "effective_rank", "participation_ratio", "projector_distance")

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
    "commutator": "||[F, Wp]||_F, F = W X W^T (Thm 3)",
    "effective_rank": "exp(entropy of the normalized eigenvalues of F)",
    "participation_ratio": "(sum of eigenvalues of F)^2 / sum of their squares",
    "projector_distance": "mean_j min(|q_j|, |1 - q_j|), q = eig(Wp) / max eig(Wp)",
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
    if config.predictor in _PREDICTOR_EQUATIONS:
        eqs.append(_PREDICTOR_EQUATIONS[config.predictor])
        if config.predictor == "power" and config.loss == "euclidean":
            eqs.append("T22")
    if config.loss.startswith("isoloss"):
        eqs.append("T23")
    if config.loss.endswith("cosine"):
        eqs.append("T24")
    if config.expectation == "mean_field":
        eqs.append("T25")
    return " ".join(eqs)


def flow_notes(config: Config) -> dict[str, str]:
    """Attributes that say how the expected flow was formed (`flow_expectation`) and what the saved
    Wp / p are (`predictor_record`)."""
    if config.expectation == "sampled":
        how = (f"sampled: autodiff of the {config.loss} loss averaged over {config.n_samples} view pairs used in"
               f" both orders, drawn once from sample_seed {config.sample_seed} (common random numbers)")
    elif config.expectation == "mean_field":
        how = ("mean_field: cosine loss with ||p||, ||z2|| replaced by their root-mean-square values"
               " (T25 under A2 with the power predictor)")
    else:
        how = f"exact: closed-form expectation of the {config.loss} loss"
    if config.predictor in _PREDICTOR_EQUATIONS:
        record = (f"closed form {config.predictor} recomputed from the saved weights (the predictor the flow"
                  " applied; no gradient through it)")
        if config.predictor in ("power", "power_normalized", "directpred", "directcopy"):
            record += f"; eps {config.predictor_eps_convention.replace('_', ' ')}"
        if config.predictor == "directcopy":
            record += "; normalized by the spectral norm (top eigenvalue) of C"
    elif config.predictor == "identity":
        record = "identity (no predictor)"
    else:
        record = f"state variable ({config.predictor} predictor, T2)"
    return {"flow_expectation": how, "predictor_record": record}


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
        **flow_notes(config),
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


def full_dataset(config: Config, *, ts: np.ndarray, W: np.ndarray, Wp: np.ndarray, Wa: np.ndarray,
                 X: np.ndarray, XS: np.ndarray, status: int, reached: np.ndarray, num_steps: int,
                 extra: dict | None = None) -> xr.Dataset:
    """A new Dataset of a full-model run: the weights over time plus the diagnostics of
    `full_diagnostics` (its inputs are not modified).

    **Arguments:** `config` (the run's `Config`, stored as attributes), keyword-only: `ts` (saved
    times), `W`, `Wp`, `Wa` (time x matrix, NaN where not reached), `X`, `XS` (X and X + X'),
    `status` (a `Status`), `reached` (bool per saved time), `num_steps`, `extra` (more attributes).

    **Returns:** data variables `W`, `Wp`, `Wa` (time, i, j / k); `eig_F`, `eig_Wp`, `p`, `tau` (time,
    mode); `loss`, `balance_residual`, `commutator`, `effective_rank`, `participation_ratio`,
    `projector_distance` (time); `reached` (time), `status` (scalar, flag attributes); coordinates
    `time`, `mode`, `i`, `j`, `k`; the attributes of `Config.flat_attrs`, `config_json`,
    `dynamics_version`, `theory`, `status_name`, `status_message`, `num_steps`, `flow_expectation`,
    `predictor_record`, then `extra`.
    """
    n = int(reached.sum())
    diag = full_diagnostics(W[:n], Wp[:n], Wa[:n], X, XS, ts[:n], config.alpha_p, config.eta)
    data_vars = {
        "W": (("time", "i", "j"), W),
        "Wp": (("time", "i", "k"), Wp),
        "Wa": (("time", "i", "j"), Wa),
    }
    for name in ("eig_F", "eig_Wp", "p", "tau"):
        data_vars[name] = (("time", "mode"), _pad(diag[name], reached))
    for name in ("loss", "balance_residual") + _SHAPE_DIAGNOSTICS:
        data_vars[name] = ("time", _pad(diag[name], reached))
    coords = {"time": ts, "mode": np.arange(config.n2), "i": np.arange(config.n2),
              "j": np.arange(config.n1), "k": np.arange(config.n2)}
    return _finish(data_vars, coords, config, status, reached, num_steps, extra or {})


def modes_dataset(config: Config, *, ts: np.ndarray, p: np.ndarray, s: np.ndarray, tau: np.ndarray,
                  lam_d: np.ndarray, lam_s: np.ndarray, status: int, reached: np.ndarray, num_steps: int,
                  extra: dict | None = None) -> xr.Dataset:
    """A new Dataset of an eigenmode-model run: p, s, tau per mode plus `mode_diagnostics` (its
    inputs are not modified).

    **Arguments:** `config`, keyword-only: `ts`, `p`, `s`, `tau` (time x mode, NaN where not
    reached), `lam_d`, `lam_s` (per mode: eigenvalues of X and X + X'), `status`, `reached`,
    `num_steps`, `extra` (more attributes).

    **Returns:** data variables `p`, `s`, `eig_F`, `eig_Wp`, `tau` (time, mode); `loss`,
    `balance_residual`, `commutator`, `effective_rank`, `participation_ratio`, `projector_distance`
    (time); `lambda_d`, `lambda_s` (mode); `reached`, `status`; coordinates `time`, `mode`; the
    attributes as for `full_dataset`.
    """
    diag = mode_diagnostics(p, s, tau, lam_d, lam_s, ts, config.alpha_p, config.eta)
    data_vars = {"p": (("time", "mode"), p), "s": (("time", "mode"), s)}
    for name in ("eig_F", "eig_Wp", "tau"):
        data_vars[name] = (("time", "mode"), diag[name])
    for name in ("loss", "balance_residual") + _SHAPE_DIAGNOSTICS:
        data_vars[name] = ("time", diag[name])
    data_vars["lambda_d"] = ("mode", lam_d, {"long_name": "eigenvalue of X on mode j"})
    data_vars["lambda_s"] = ("mode", lam_s, {"long_name": "eigenvalue of X + X' on mode j"})
    coords = {"time": ts, "mode": np.arange(config.n2)}
    return _finish(data_vars, coords, config, status, reached, num_steps, extra or {})
