"""The sampled simulators behind `simulate`: minibatch SGD, ER and ISSL, from one `Config`.

`simulate(config)` calls `simulate_sampled` when `config.simulator` is not "flow". Each run takes
its key from the config's `seed` (`jax.random.key(seed)`; the same seed also draws W(0)), builds the
simulator's own settings object from the config (`sgd_settings`, `er_settings`, `issl_settings`) and
returns the simulator's result with the whole config in its attributes (`config_json` and the flat
fields), so `Config.from_dataset(ds)` rebuilds the run.
"""

from __future__ import annotations

import jax
import numpy as np
import xarray as xr

from ._version import __version__
from .config import Config

__all__ = ["simulate_sampled", "sgd_settings", "er_settings", "issl_settings", "issl_spectrum"]


def sgd_settings(config: Config):
    """The `dynamics.stochastic.SGDSettings` of a config with `simulator` "sgd" or "er"."""
    from .stochastic import SGDSettings

    return SGDSettings(config.lr, steps=config.steps, batch_size=config.batch_size, momentum=config.momentum,
                       ema_momentum=config.ema_momentum, weight_decay=config.weight_decay,
                       decoupled=config.decoupled, predictor_lr=config.predictor_lr,
                       predictor_weight_decay=config.predictor_weight_decay, save_every=config.save_every,
                       rho=config.rho, predictor_freq=config.predictor_freq)


def er_settings(config: Config):
    """The `dynamics.objectives.ERSettings` of a config with `simulator` "er" (`objective` "er" is
    ERSettings' "er", "rec" its "byol": the reconstruction term alone)."""
    from .objectives import ERSettings

    return ERSettings(objective="er" if config.objective == "er" else "byol", kappa=config.kappa,
                      plugin=config.plugin, batches=config.batches, eval_samples=config.eval_samples)


def issl_settings(config: Config):
    """The `dynamics.issl.ISSLSettings` of a config with `model="issl"` (`lr` is its `learning_rate`)."""
    from .issl import ISSLSettings

    names = ("n_classes", "n_prototypes", "teacher_hidden", "class_scale", "noise_scale", "lambda_maximality",
             "beta_det_inv", "temperature", "temperature_teacher", "temperature_student", "optimizer",
             "momentum", "weight_decay", "steps", "batch_size", "save_every", "eval_per_class", "batch_classes",
             "n1", "n2", "init_scale")
    return ISSLSettings(objective=config.objective, learning_rate=config.lr,
                        **{name: getattr(config, name) for name in names})


def issl_spectrum(W: np.ndarray, centres: np.ndarray) -> np.ndarray:
    r"""Eigenvalues (descending) of $F = W X W^T$ with $X = E[x_1 x_2^T] = \frac1C\sum_c \mu_c\mu_c^T$,
    the second moment two views of ISSL's class data share (the noise is independent and centred):
    the spectrum of the class codes $W\mu_c$, comparable with the flow's eig_F. `W` is
    (time, n2, n1); NaN where W is not finite."""
    X = centres.T @ centres / centres.shape[0]
    out = np.full(W.shape[:1] + (min(W.shape[1], W.shape[2]),), np.nan)
    ok = np.all(np.isfinite(W.reshape(W.shape[0], -1)), axis=1)
    F = np.einsum("tij,jk,tlk->til", W[ok], X, W[ok])
    out[ok] = np.linalg.eigvalsh(0.5 * (F + np.swapaxes(F, 1, 2)))[:, ::-1][:, : out.shape[1]]
    return out


def _issl_result(config: Config, ds: xr.Dataset) -> xr.Dataset:
    """ISSL's Dataset on the shared time axis: `time` = steps x lr/(1-momentum) (the flow time of
    THEORY.md §1's map for SGD; steps x lr for Adam) with the step count as coordinate `step`, and
    the variables every result has: `eig_F` (`issl_spectrum`), `reached`, `status`."""
    from .integrate import STATUS_MESSAGES, Status, status_flag_attrs

    a_eff = config.lr / (1.0 - config.momentum) if config.optimizer == "sgd" else config.lr
    steps = ds["time"].values.astype(np.int64)
    ds = ds.assign_coords(time=steps * a_eff, step=("time", steps))
    ds["time"].attrs["long_name"] = "optimizer steps x lr/(1-momentum)" if config.optimizer == "sgd" else \
        "optimizer steps x lr"
    W = np.asarray(ds["W"].values, np.float64)
    eig = issl_spectrum(W, np.asarray(ds["centres"].values, np.float64))
    reached = np.all(np.isfinite(W.reshape(W.shape[0], -1)), axis=1)
    status = Status.ok if reached.all() else Status.nonfinite
    ds["eig_F"] = (("time", "mode"), eig, {"long_name": "eigenvalues of W X W^T, X = mean of mu_c mu_c^T"})
    ds = ds.assign_coords(mode=np.arange(eig.shape[1]))
    ds["reached"] = ("time", reached)
    ds["status"] = ((), np.int8(status), status_flag_attrs())
    ds.attrs.update(status_name=status.name, status_message=STATUS_MESSAGES[status], num_steps=int(steps[-1]))
    return ds


def simulate_sampled(config: Config) -> xr.Dataset:
    """Run a config whose `simulator` is "sgd" (`dynamics.stochastic.simulate_sgd`), "er"
    (`dynamics.stochastic.simulate_er`) or "issl" (`dynamics.issl.simulate_issl`) with the key
    `jax.random.key(config.seed)`, and record the config in the result's attributes."""
    key = jax.random.key(config.seed)
    if config.simulator == "sgd":
        from .stochastic import simulate_sgd

        ds = simulate_sgd(config, sgd_settings(config), key=key)
    elif config.simulator == "er":
        from .stochastic import simulate_er

        ds = simulate_er(config, sgd_settings(config), er_settings(config), key=key)
    elif config.simulator == "issl":
        from .issl import simulate_issl

        ds = _issl_result(config, simulate_issl(issl_settings(config), key=key))
    else:
        raise ValueError(f"simulate_sampled: config.simulator = {config.simulator!r} is the flow")
    ds.attrs.update(config.flat_attrs())
    ds.attrs.update(config_json=config.to_json(), simulator=config.simulator, dynamics_version=__version__)
    return ds
