r"""`simulate_er`: ER and normalized BYOL on the two-layer linear network, trained by sampling,
THEORY.md §9 (T27)-(T28) [RBR23] on the model of §1 (T1), with the optimizer of `simulate_sgd`.

The objective is `dynamics.objectives.er_minibatch_loss`; these losses have no closed-form
expectation, so the expected flow is integrated by sampling (`ERSettings.batches`).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array

from ..config import Config, ConfigError, data_statistics, save_times
from ..flows import BYOLState, GradientPath, gradient_path, initial_state, sample_views, view_factors
from ..objectives import ERSettings, er_minibatch_loss, kernel_entropy, vmf_reconstruction
from ..results import full_dataset
from ._gradient import Params
from ._settings import SGDSettings
from ._sgd import SGDHyper, apply_gradients, scan_steps, sgd_optimizer

__all__ = ["er_minibatch_gradients", "simulate_er"]

_PREDICTORS = ("trained", "symmetric", "identity")


def er_minibatch_gradients(state: BYOLState, x1: Array, x2: Array, path: GradientPath,
                           entropy_weight: float | Array, kappa: float, plugin: bool) -> Params:
    """Gradients of `er_minibatch_loss` in (W, Wp); Wp's is symmetrized for predictor "symmetric"
    and zero for "identity" (as in `dynamics.stochastic.minibatch_gradients`)."""
    gW, gWp = jax.grad(er_minibatch_loss, argnums=(0, 1))(state.W, state.Wp, state.Wa, x1, x2, path,
                                                         entropy_weight, kappa, plugin)
    if path.predictor == "symmetric":
        gWp = 0.5 * (gWp + gWp.T)
    elif path.predictor == "identity":
        gWp = jnp.zeros_like(gWp)
    return Params(gW, gWp)


@partial(jax.jit, static_argnames=("path", "decoupled", "batch_size", "n_segments", "save_every",
                                   "kappa", "plugin", "fixed"))
def _run(state0, factors, hyper, key, threshold, entropy_weight, *, path, decoupled, batch_size, n_segments,
         save_every, kappa, plugin, fixed):
    optimizer = sgd_optimizer(hyper, path, decoupled)
    batch_key, key = jax.random.split(key)
    fixed_batch = sample_views(batch_key, factors, batch_size)

    def step(state, opt_state, aux, count, sub):
        x1, x2 = fixed_batch if fixed else sample_views(sub, factors, batch_size)
        grads = er_minibatch_gradients(state, x1, x2, path, entropy_weight, kappa, plugin)
        state, opt_state = apply_gradients(state, opt_state, grads, hyper, optimizer, path)
        return state, opt_state, aux

    return scan_steps(step, state0, optimizer.init(Params(state0.W, state0.Wp)), (), key, threshold,
                      n_segments=n_segments, save_every=save_every)


@partial(jax.jit, static_argnames=("kappa", "plugin"))
def _evaluate(W, Wp, Wa, x1, x2, *, kappa, plugin):
    def one(w, wp, wa):
        return (kernel_entropy(x1 @ w.T, kappa, plugin),
                vmf_reconstruction(x1 @ (wp @ w).T, x2 @ wa.T, kappa))
    return jax.vmap(one)(W, Wp, Wa)


def simulate_er(config: Config, settings: SGDSettings, er: ERSettings = ERSettings(), *, key: Array) -> xr.Dataset:
    r"""Train two-layer linear BYOL with normalized projections on the ER objective (or on BYOL's
    normalized loss) by sampled gradient steps, THEORY.md §9 (T27)-(T28) [RBR23], and return the
    result schema plus a `kernel_entropy` time series.

    From `config` (a `Config` with `model="full"`) it takes the sizes, the data statistics X, X'
    (views as in `dynamics.stochastic.sample_views`), the gradient path (`target`,
    `stop_gradient`, `predictor` in trained / symmetric / identity), W(0), Wp(0), Wa(0), `dtype`
    and `divergence_threshold`. The optimizer is that of `simulate_sgd` (`settings`: learning
    rates, momentum, weight decay, EMA momentum, steps, batch size, save interval), so time is the
    flow time of `discrete_to_flow` and the rates of `config` are replaced as in `simulate_sgd`.
    `er` chooses the objective, $\kappa$, the entropy estimator and the batch sampling; the
    `loss` and `expectation` fields of `config` (if present) are not used: the loss is always the
    normalized one of `er.objective` (recorded as `er_objective`), the expectation always sampled.

    **Returns:** the `dynamics.results.full_dataset` of the run (W, Wp, Wa, spectra, the expected
    Euclidean loss (T1) at the saved weights, status) plus data variables over `time`:
    `kernel_entropy` ($\hat H$ (T28) of $\hat z = W x_1/\|W x_1\|$ on `er.eval_samples` fixed views),
    `reconstruction` (vMF rec of the fixed pairs) and `er_objective` (= reconstruction -
    kernel_entropy); attributes `simulator="er"`, `expected_flow="sampled"`, `theory`, the `er_*`
    and `sgd_*` settings and the flow rates. Failures (non-finite, diverged) are reported in
    `status`, never raised.

    **Raises:** `ConfigError` naming `model` or `predictor` for unsupported configurations.
    """
    if config.model != "full":
        raise ConfigError("model", config.model, "simulate_er needs model='full' (the matrix network)")
    if config.predictor not in _PREDICTORS:
        raise ConfigError("predictor", config.predictor, f"simulate_er supports {', '.join(_PREDICTORS)}")
    n_saves = settings.n_saves
    flow_config = settings.flow_config(config)
    dtype = np.float64 if config.dtype == "float64" else np.float32
    stats = data_statistics(config)
    path = gradient_path(config)
    run_key, eval_key = jax.random.split(key)
    with jax.enable_x64(config.dtype == "float64"):
        state0 = BYOLState(*(jnp.asarray(a) for a in initial_state(config, dtype)))
        factors = view_factors(stats.X, stats.Xprime, dtype)
        factors = type(factors)(*(jnp.asarray(f) for f in factors))
        states, alive, status, count = _run(
            state0, factors, SGDHyper.from_settings(settings, dtype), run_key,
            jnp.asarray(config.divergence_threshold, dtype), jnp.asarray(1.0 if er.objective == "er" else 0.0, dtype),
            path=path, decoupled=settings.decoupled, batch_size=settings.batch_size, n_segments=n_saves - 1,
            save_every=settings.save_interval, kappa=er.kappa, plugin=er.plugin, fixed=er.batches == "fixed")
        reached = np.concatenate([[True], np.asarray(alive)])
        W, Wp, Wa = (np.concatenate([np.asarray(a0, np.float64)[None], np.asarray(a, np.float64)])
                     for a0, a in zip(state0, states))
        x1, x2 = sample_views(eval_key, factors, er.eval_samples)
        entropy, rec = (np.array(v, np.float64) for v in _evaluate(
            jnp.asarray(W, dtype), jnp.asarray(Wp, dtype), jnp.asarray(Wa, dtype), x1, x2,
            kappa=er.kappa, plugin=er.plugin))
        key_data = np.asarray(jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
                              else key).ravel().tolist()
    for array in (W, Wp, Wa, entropy, rec):
        array[~reached] = np.nan
    extra = {
        "simulator": "er", "expected_flow": "sampled",
        "theory": "T1 T2 T3 T27 T28" + (" T4" if config.target == "ema" else ""),
        "er_key": [int(k) for k in key_data],
        **settings.flat_attrs(), **er.flat_attrs(),
    }
    ds = full_dataset(flow_config, ts=save_times(flow_config), W=W, Wp=Wp, Wa=Wa, X=stats.X, XS=stats.X + stats.Xprime,
                      status=int(status), reached=reached, num_steps=int(count), extra=extra)
    ds["kernel_entropy"] = ("time", entropy, {"long_name": "vMF kernel entropy of W x1 / |W x1| (T28)",
                                              "units": "nats", "kappa": er.kappa})
    ds["reconstruction"] = ("time", rec, {"long_name": "vMF reconstruction of the target view (T27)",
                                          "units": "nats"})
    ds["er_objective"] = ("time", rec - entropy, {"long_name": "rec - H (T27-T28)", "units": "nats"})
    return ds
