r"""`simulate_issl`: an ISSL run as an xarray Dataset with the diagnostics of an idealized
representation over time, THEORY.md §10 [DHEL22]."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array

from .._version import __version__
from ._data import ClassData, sample_class_inputs
from ._diagnostics import class_codes, code_rank, etf_distance, linear_probe_accuracy, within_class_var
from ._settings import ISSLSettings
from ._train import train_issl

__all__ = ["probe_sample", "simulate_issl"]


def probe_sample(data: ClassData, n_per_class: int, *, key: Array) -> tuple[np.ndarray, np.ndarray]:
    """`n_per_class` augmented inputs of every class (float64 numpy) and their labels."""
    labels = np.repeat(np.arange(data.n_classes), n_per_class)
    with jax.enable_x64(True):
        jdata = ClassData(*(jnp.asarray(a) for a in data))
        x = _sample_inputs(jdata, jnp.asarray(labels), key)
        return np.asarray(x), labels


@jax.jit
def _sample_inputs(data: ClassData, labels: Array, key: Array) -> Array:
    return sample_class_inputs(data, labels, key=key)


def simulate_issl(settings: ISSLSettings, *, key: Array) -> xr.Dataset:
    r"""Train (`train_issl`) and return an xarray Dataset over `time` (optimizer steps), THEORY.md §10
    [DHEL22].

    **Data variables:** `W` (time, i, j); `loss` and its parts (DISSL: `distillation`,
    `marginal_entropy`, `det_inv`; CISSL: `positive_logit`) on a fixed batch; `within_class_var`
    (fraction of code variance within classes, 0 = invariant), `rank` (numerical rank of the
    centred class codes, rtol 1e-3), `etf_distance` (class codes to a simplex ETF), `probe_accuracy`
    (least-squares linear probe with bias trained on `eval_per_class` fixed samples per class,
    tested on as many others); `class_codes` (time, class, i) and the data model (`centres`,
    `noise_basis`) of the run. **Attributes:** the settings as `issl_*`, `theory`,
    `simulator="issl"`, `dynamics_version`.
    """
    params, data, saved = train_issl(settings, key=key)
    x_train, x_test = saved["probe_train"], saved["probe_test"]
    y_train = y_test = np.repeat(np.arange(settings.n_classes), settings.eval_per_class)
    W = saved["W"]
    within = np.array([within_class_var(w, data) for w in W])
    codes = np.stack([class_codes(w, data) for w in W])
    rank = np.array([code_rank(c) for c in codes], dtype=np.int64)
    etf = np.array([etf_distance(c) for c in codes])
    probe = np.array([linear_probe_accuracy(x_train @ w.T, y_train, x_test @ w.T, y_test, settings.n_classes)
                      for w in W])
    time = np.arange(settings.n_saves) * settings.save_every
    data_vars = {
        "W": (("time", "i", "j"), W, {"long_name": "encoder weights W"}),
        "within_class_var": ("time", within, {"long_name": "within-class / total code variance"}),
        "rank": ("time", rank, {"long_name": "numerical rank of the centred class codes"}),
        "etf_distance": ("time", etf, {"long_name": "||G - G_ETF||_F / ||G_ETF||_F of the class codes"}),
        "probe_accuracy": ("time", probe, {"long_name": "least-squares linear probe accuracy"}),
        "class_codes": (("time", "class", "i"), codes, {"long_name": "W mu_c"}),
        "centres": (("class", "j"), np.asarray(data.centres)),
        "noise_basis": (("j", "noise"), np.asarray(data.noise_basis)),
    }
    for name in ("loss", "distillation", "marginal_entropy", "det_inv", "positive_logit"):
        if name in saved:
            data_vars[name] = ("time", saved[name])
    attrs = {**settings.flat_attrs(), "simulator": "issl",
             "theory": "T29" if settings.objective == "dissl" else "THEORY.md §10 (CISSL)",
             "dynamics_version": __version__}
    coords = {"time": time, "i": np.arange(settings.n2), "j": np.arange(settings.n1),
              "class": np.arange(settings.n_classes), "noise": np.arange(settings.noise_dim)}
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    ds["time"].attrs["long_name"] = "optimizer steps"
    return ds
