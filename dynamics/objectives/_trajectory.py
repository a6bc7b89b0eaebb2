r"""Kernel entropy (T28) of the normalized embeddings along a saved two-layer linear BYOL run
[RBR23]: the `kernel_entropy` diagnostic that every simulation result carries
(`kernel_entropy_series`, `with_kernel_entropy`), and the same series for any result Dataset that
carries `W` over `time` (`trajectory_kernel_entropy`). One computation behind both
(`_entropy_values`): fixed inputs drawn once, the estimator vmapped over time."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float

from ..config import Config, ConfigError, data_statistics
from ..flows import sample_views, view_factors
from ._entropy import _check_kappa, kernel_entropy

__all__ = ["embedding_entropy", "entropy_inputs", "trajectory_kernel_entropy", "KERNEL_ENTROPY_SETTINGS",
           "kernel_entropy_series", "mode_weight_matrix", "with_kernel_entropy"]

#: Settings of the `kernel_entropy` diagnostic: kappa (T28's default), number of fixed inputs, the
#: input kind (augmented views, the online branch's input) and the seed of the inputs (common
#: random numbers: every run with the same data statistics sees the same inputs).
KERNEL_ENTROPY_SETTINGS = {"kappa": 10.0, "n_samples": 512, "inputs": "view", "key": 0}


def embedding_entropy(W: Float[Array, "T n2 n1"], x: Float[Array, "k n1"], kappa: float = 10.0,
                      plugin: bool = False) -> Float[Array, " T"]:
    r"""$\hat H(\{W(t) x_i / \|W(t) x_i\|\}_i)$ for every saved W(t): `kernel_entropy` (T28) of the
    embeddings of fixed inputs `x` (rows), vmapped over the leading (time) axis of `W`. A saved W
    with a non-finite entry gives NaN."""
    kappa = _check_kappa(kappa)

    def one(w):
        value = kernel_entropy(x @ w.T, kappa, plugin)
        return jnp.where(jnp.all(jnp.isfinite(w)), value, jnp.nan)

    return jax.vmap(one)(W)


def _input_factors(config: Config, n_samples: int, inputs: str):
    """`view_factors` of the inputs' moments (float64), after checking `inputs` and `n_samples`."""
    if inputs not in ("view", "clean"):
        raise ConfigError("inputs", inputs, "must be one of view, clean")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ConfigError("n_samples", n_samples, "must be an integer >= 2 (points of the kernel estimate)")
    stats = data_statistics(config)
    Xprime = stats.Xprime if inputs == "view" else np.zeros_like(stats.Xprime)
    return view_factors(stats.X, Xprime, np.float64)


def entropy_inputs(config: Config, n_samples: int, *, key: Array, inputs: str = "view") -> np.ndarray:
    r"""Fixed inputs for `embedding_entropy`, drawn with the moments of `config` (THEORY.md §1):
    `inputs="view"` gives augmented views $x_1 = \bar x + e$ ($E[x_1x_1^T] = X + X'$, the online
    input), `"clean"` the augmentation means $\bar x \sim N(0, X)$. float64 numpy, `n_samples` rows."""
    factors = _input_factors(config, n_samples, inputs)
    with jax.enable_x64(True):
        x1, _ = sample_views(key, factors, int(n_samples))
        return np.asarray(x1, dtype=np.float64)


@partial(jax.jit, static_argnames=("n_samples", "kappa", "plugin"))
def _entropy_of_views(key: Array, factors, W: Float[Array, "T n2 n1"], n_samples: int, kappa: float,
                      plugin: bool) -> Float[Array, " T"]:
    """`embedding_entropy` of `W` on the views `sample_views(key, factors, n_samples)` (the inputs of
    `entropy_inputs`), as one compiled program."""
    x1, _ = sample_views(key, factors, n_samples)
    return embedding_entropy(W, x1, kappa, plugin)


def trajectory_kernel_entropy(ds: xr.Dataset, *, key: Array, n_samples: int = 512, kappa: float = 10.0,
                              plugin: bool = False, inputs: str = "view") -> xr.DataArray:
    r"""`kernel_entropy` (T28) of the normalized online embeddings $z = W(t)x$ at every saved time of
    a full-model result (`dynamics.simulate`, `simulate_sgd`, `simulate_er`), THEORY.md §9 [RBR23].

    The inputs x are drawn once (`entropy_inputs`, from the run's own data statistics via
    `Config.from_dataset`) and reused at every time, so changes over time come from W alone
    (common random numbers: the same `key` gives the same inputs for every run with the same data).

    **Arguments:** `ds` (a result with `W` over `time` and `config_json`), `key` (keyword-only),
    `n_samples` (k, default 512), `kappa` (default 10), `plugin`, `inputs` ("view" or "clean").

    **Returns:** a DataArray `kernel_entropy` over `time` (NaN where W is not finite, e.g. after an
    early stop), with attributes `kappa`, `n_samples`, `plugin`, `inputs`, `theory`.

    **Raises:** `ConfigError` naming `W` when `ds` has no full-model weights, or the bad argument.
    """
    if "W" not in ds:
        raise ConfigError("W", None, "the dataset has no W over time (needs a model='full' result)")
    kappa = _check_kappa(kappa)
    values = _entropy_values(Config.from_dataset(ds), ds["W"].values, key=key, n_samples=n_samples, kappa=kappa,
                             plugin=plugin, inputs=inputs)
    attrs = {"long_name": "vMF kernel entropy of normalized embeddings W x (T28)", "units": "nats",
             "kappa": kappa, "n_samples": int(n_samples), "plugin": int(plugin), "inputs": inputs,
             "theory": "T28"}
    return xr.DataArray(values, coords={"time": ds["time"].values}, dims=("time",), name="kernel_entropy",
                        attrs=attrs)


def _entropy_values(config: Config, W: np.ndarray, *, key: Array, n_samples: int, kappa: float, plugin: bool,
                    inputs: str) -> np.ndarray:
    """`embedding_entropy` of W (time x n2 x n1) on `entropy_inputs` of `config`, in float64."""
    factors = _input_factors(config, n_samples, inputs)
    kappa = _check_kappa(kappa)
    with jax.enable_x64(True):
        return np.asarray(_entropy_of_views(key, factors, jnp.asarray(W, jnp.float64), int(n_samples), kappa,
                                            bool(plugin)), dtype=np.float64)


def kernel_entropy_series(config: Config, W: np.ndarray) -> tuple[np.ndarray, dict]:
    r"""$\hat H(\{W(t) x_i / \|W(t) x_i\|\}_i)$ at every saved time (leading axis of `W`, n2 x n1
    each; NaN where W is not finite), with the inputs $x_i$ drawn once by `entropy_inputs` from
    `config`'s data statistics (`KERNEL_ENTROPY_SETTINGS`). For the eigenmode model pass
    $W = \mathrm{diag}(w) Q_{:, :m}^T$ in the data basis Q (`mode_weight_matrix`).

    **Returns:** the values (float64) and the variable's attributes (settings and `theory`).
    """
    s = KERNEL_ENTROPY_SETTINGS
    with jax.enable_x64(True):
        key = jax.random.key(s["key"])
    values = _entropy_values(config, W, key=key, n_samples=s["n_samples"], kappa=s["kappa"], plugin=False,
                             inputs=s["inputs"])
    attrs = {"long_name": "vMF kernel entropy of normalized embeddings W x (T28)", "units": "nats",
             "kappa": s["kappa"], "n_samples": s["n_samples"], "inputs": s["inputs"], "input_key": s["key"],
             "theory": "T28"}
    return values, attrs


def mode_weight_matrix(config: Config, w: np.ndarray) -> np.ndarray:
    """The online weights of an eigenmode run as matrices, diag(w_j) Q[:, :m]^T (time x m x n1)."""
    basis = data_statistics(config).basis
    return w[..., :, None] * basis[:, : w.shape[-1]].T


def with_kernel_entropy(ds: xr.Dataset, *, config: Config, W: np.ndarray) -> xr.Dataset:
    """A copy of the result `ds` with the `kernel_entropy` diagnostic added (`kernel_entropy_series`
    of the online weights `W`, time x n2 x n1, under `config`'s data statistics); `ds` is unchanged.

    **Returns:** a new Dataset with one more data variable, `kernel_entropy` over `time` (T28, nats;
    attributes `kappa`, `n_samples`, `inputs`, `input_key`, `theory`).
    """
    values, attrs = kernel_entropy_series(config, W)
    return ds.assign(kernel_entropy=("time", values, attrs))
