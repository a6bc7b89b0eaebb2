"""`simulate_sgd`: minibatch SGD on two-layer linear BYOL, the discrete counterpart of (T2)-(T5).

optax is imported by the functions that step (not with this module), so that `import dynamics` and the
flow commands do not load it."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float

from ..config import Config, ConfigError, data_statistics, save_times
from ..flows import (BYOLState, GradientPath, PredictorStatistics, closed_form_predictor, gradient_path,
                     initial_state, sample_statistics, ViewFactors, sample_views, view_factors)
from ..integrate import Status, state_max_abs
from ..objectives import with_kernel_entropy
from ..results import full_dataset
from ._gradient import Params, minibatch_gradients
from ._settings import SGDSettings

if TYPE_CHECKING:
    import optax

__all__ = ["SGDHyper", "PredictorHyper", "sgd_optimizer", "sgd_step", "apply_gradients", "scan_steps",
           "set_closed_form_predictor", "simulate_sgd"]


class SGDHyper(NamedTuple):
    """The numeric settings of `SGDSettings` as scalar arrays (traced, so changing them does not
    recompile): learning rates, momentum, decays and the EMA momentum gamma."""

    lr: Float[Array, ""]
    predictor_lr: Float[Array, ""]
    momentum: Float[Array, ""]
    weight_decay: Float[Array, ""]
    predictor_weight_decay: Float[Array, ""]
    ema_momentum: Float[Array, ""]

    @classmethod
    def from_settings(cls, settings: SGDSettings, dtype=np.float64) -> SGDHyper:
        values = (settings.lr, settings.predictor_lr_effective, settings.momentum, settings.weight_decay,
                  settings.predictor_weight_decay_effective, settings.ema_momentum)
        return cls(*(jnp.asarray(v, dtype) for v in values))


class PredictorHyper(NamedTuple):
    """Settings of a closed-form predictor in discrete training (traced scalars): EMA momentum `rho`
    of the statistics (T19), the predictor's power `alpha` and `eps`, and the update period `freq`."""

    rho: Float[Array, ""]
    alpha: Float[Array, ""]
    eps: Float[Array, ""]
    freq: Array

    @classmethod
    def from_settings(cls, config: Config, settings: SGDSettings, dtype=np.float64) -> PredictorHyper:
        alpha = config.predictor_alpha_effective
        eps = config.predictor_eps_effective
        return cls(jnp.asarray(settings.rho, dtype), jnp.asarray(0.0 if alpha is None else alpha, dtype),
                   jnp.asarray(0.0 if eps is None else eps, dtype), jnp.asarray(settings.predictor_freq, jnp.int32))


def set_closed_form_predictor(state: BYOLState, stats: PredictorStatistics, step: Array, x1: Array, x2: Array,
                              hyper: PredictorHyper, path: GradientPath
                              ) -> tuple[BYOLState, PredictorStatistics]:
    r"""DirectPred-style update of a closed-form predictor from minibatch statistics, (T19)-(T20).

    The batch statistics (`sample_statistics` over the pairs in both orders, so $\hat C$ averages
    both views) update the EMA $\hat S \leftarrow \rho \hat S + (1-\rho) \hat S_\mathrm{batch}$
    (step 0 takes the batch value); every `freq` steps (step % freq == 0) Wp is set to the closed form
    of $\hat S$, otherwise it is kept. Pure; returns the new state and statistics."""
    Wa = state.W if path.target == "online" else state.Wa
    batch = sample_statistics(state.W, Wa, jnp.concatenate([x1, x2]), jnp.concatenate([x2, x1]))
    stats = jax.tree_util.tree_map(
        lambda old, new: jnp.where(step == 0, new, hyper.rho * old + (1.0 - hyper.rho) * new), stats, batch)
    Wp = closed_form_predictor(path.predictor, stats, hyper.alpha, hyper.eps, path.eps_convention)
    Wp = jnp.where(step % hyper.freq == 0, Wp, state.Wp)
    return state._replace(Wp=Wp), stats


def sgd_optimizer(hyper: SGDHyper, path: GradientPath, decoupled: bool) -> optax.GradientTransformation:
    r"""The optax optimizer of one run on `Params(W, Wp)`, one parameter group each.

    Each group is heavy-ball SGD, $b \leftarrow \mu b + g$, $\theta \leftarrow \theta - a b$
    (`optax.sgd(lr, momentum)`, PyTorch convention), with its own learning rate and decay:

    - coupled: `chain(add_decayed_weights(wd), sgd(lr, momentum))`, i.e. $g + wd\,\theta$ enters
      the momentum buffer (PyTorch `weight_decay`);
    - decoupled: `chain(sgd(lr, momentum), add_decayed_weights(-d))`, i.e. after the SGD update
      $\theta \leftarrow \theta - d\,\theta$ (the updates are already scaled by $-a$, so adding
      $-d\,\theta$ is the shrink).

    Predictor `"identity"` or a closed form: Wp is frozen (`optax.set_to_zero`, no decay either), as
    in `byol_flow`; a closed form is set by `set_closed_form_predictor` instead.
    """
    import optax

    def group(lr, decay):
        sgd = optax.sgd(lr, momentum=hyper.momentum, nesterov=False)
        if decoupled:
            return optax.chain(sgd, optax.add_decayed_weights(-decay))
        return optax.chain(optax.add_decayed_weights(decay), sgd)

    transforms = {"online": group(hyper.lr, hyper.weight_decay)}
    if not path.predictor_is_trained:
        transforms["frozen"] = optax.set_to_zero()
        labels = Params("online", "frozen")
    else:
        transforms["predictor"] = group(hyper.predictor_lr, hyper.predictor_weight_decay)
        labels = Params("online", "predictor")
    return optax.multi_transform(transforms, labels)


def sgd_step(state: BYOLState, opt_state: optax.OptState, x1: Array, x2: Array, hyper: SGDHyper,
             optimizer: optax.GradientTransformation, path: GradientPath
             ) -> tuple[BYOLState, optax.OptState]:
    r"""One step on the minibatch (x1, x2): gradients (`minibatch_gradients`), then `apply_gradients`.
    Pure; returns the new state and optimizer state."""
    return apply_gradients(state, opt_state, minibatch_gradients(state, x1, x2, path), hyper, optimizer, path)


def apply_gradients(state: BYOLState, opt_state: optax.OptState, grads: Params, hyper: SGDHyper,
                    optimizer: optax.GradientTransformation, path: GradientPath
                    ) -> tuple[BYOLState, optax.OptState]:
    r"""The optimizer on `grads` (in W, Wp), then the target,
    $W_a \leftarrow \gamma W_a + (1-\gamma) W_\mathrm{new}$ (the discrete (T4)) or
    $W_a = W_\mathrm{new}$ for `target="online"`. Pure; returns the new state and optimizer state."""
    import optax

    params = Params(state.W, state.Wp)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    if path.target == "online":
        Wa = params.W
    else:
        Wa = optax.incremental_update(params.W, state.Wa, 1.0 - hyper.ema_momentum)
    return BYOLState(params.W, params.Wp, Wa), opt_state


def scan_steps(step: Callable, state0: BYOLState, opt_state0: optax.OptState, aux0: Any, key: Array,
               threshold: Array, *, n_segments: int, save_every: int):
    r"""The SGD loop of a discrete simulation as one scan (trace it inside `jax.jit`): an outer scan
    over `n_segments` saved segments, an inner scan over the `save_every` steps of each. Each step
    splits the key (`key, sub = split(key)`) and calls
    `step(state, opt_state, aux, count, sub) -> (state, opt_state, aux)` (`aux`: extra carried
    state, e.g. a closed-form predictor's statistics; `count`: steps completed). After a step whose
    state has a non-finite entry (`nonfinite`) or an entry above `threshold` (`diverged`) the carry
    is frozen (`lax.cond`), so the remaining steps cost nothing and the status keeps the first failure.

    **Returns:** `(states, alive, status, count)`: the state at the end of every segment, whether
    it was reached, the final `Status` code and the number of steps completed.
    """
    ok, diverged, nonfinite = (jnp.int32(s) for s in (Status.ok, Status.diverged, Status.nonfinite))

    def advance(operand):
        state, opt_state, key, _, aux, count = operand
        key, sub = jax.random.split(key)
        state, opt_state, aux = step(state, opt_state, aux, count, sub)
        size = state_max_abs(state)
        code = jnp.where(jnp.isfinite(size), jnp.where(size > threshold, diverged, ok), nonfinite)
        return state, opt_state, key, code, aux, count

    def one(carry, _):
        state, opt_state, key, code, aux, count = carry
        state, opt_state, key, code, aux, count = jax.lax.cond(
            code == ok, advance, lambda o: o, (state, opt_state, key, code, aux, count))
        return (state, opt_state, key, code, aux, count + (code == ok).astype(jnp.int32)), None

    def segment(carry, _):
        carry, _ = jax.lax.scan(one, carry, None, length=save_every)
        return carry, (carry[0], carry[3] == ok)

    carry0 = (state0, opt_state0, key, ok, aux0, jnp.int32(0))
    carry, (states, alive) = jax.lax.scan(segment, carry0, None, length=n_segments)
    return states, alive, carry[3], carry[5]


@partial(jax.jit, static_argnames=("path", "decoupled", "batch_size", "n_segments", "save_every"))
def _run(state0: BYOLState, factors: ViewFactors, hyper: SGDHyper, key: Array, threshold: Array,
         predictor: PredictorHyper, *, path: GradientPath, decoupled: bool, batch_size: int, n_segments: int,
         save_every: int):
    """The whole run as one jitted `scan_steps`; a closed-form predictor is set before each step's
    gradient (`set_closed_form_predictor`, its statistics carried as `aux`)."""
    optimizer = sgd_optimizer(hyper, path, decoupled)

    def step(state, opt_state, stats, count, sub):
        x1, x2 = sample_views(sub, factors, batch_size)
        if path.predictor_is_closed_form:
            state, stats = set_closed_form_predictor(state, stats, count, x1, x2, predictor, path)
        state, opt_state = sgd_step(state, opt_state, x1, x2, hyper, optimizer, path)
        return state, opt_state, stats

    n2 = state0.Wp.shape[0]
    zeros = jnp.zeros((n2, n2), dtype=state0.Wp.dtype)
    return scan_steps(step, state0, optimizer.init(Params(state0.W, state0.Wp)), PredictorStatistics(zeros, zeros, zeros),
                      key, threshold, n_segments=n_segments, save_every=save_every)


def simulate_sgd(config: Config, settings: SGDSettings, *, key: Array) -> xr.Dataset:
    r"""Train two-layer linear BYOL (T1) with minibatch SGD and return it in the result schema.

    The discrete counterpart of `dynamics.simulate` for `model="full"`. From `config` it takes the
    sizes, the data statistics X, X' (`data_statistics`; views are sampled as in `sample_views`),
    the gradient path (`target`, `stop_gradient`, `predictor`, `loss`), W(0), Wp(0), Wa(0)
    (`initial_state`), `dtype` and `divergence_threshold`. **The flow rates `alpha_p`, `beta`,
    `eta`, `eta_p` and the time grid `t_max`, `n_save` of `config` are ignored**: the run is set by
    the discrete `settings` (learning rates, momentum, EMA momentum, weight decay, steps), and the
    rates it follows come from `discrete_to_flow` (THEORY.md §1).

    (Initialization rules that read `alpha_p`, such as `init="balanced"`, use the `config`'s value;
    pass a `config` whose `alpha_p` equals predictor_lr / lr to keep them consistent.)

    **Arguments:**

    - `config`: a `Config` with `model="full"`.
    - `settings`: `SGDSettings`.
    - `key`: a `jax.random` key (keyword-only; the run is a pure function of it).

    **Returns:** an `xarray.Dataset` built by `dynamics.results.full_dataset` with the config
    `config.replace(alpha_p, beta, eta, eta_p, t_max, n_save)` of the flow the run follows, so
    `dynamics.simulate(Config.from_dataset(ds))` is the matching ODE run on the same time grid.
    Coordinate `time` = step x `time_per_step` (flow time, $a k / (1-\mu)$), saved every
    `save_every` steps. Data variables W, Wp, Wa, eig_F, eig_Wp, p, tau, loss (expected (T1) at the
    saved weights), balance_residual (T6), the shape diagnostics and `kernel_entropy` of every
    result, and `status`, `reached`. Attributes add
    `simulator="sgd"`, `flow_alpha_p`, `flow_beta`, `flow_eta`, `flow_eta_p`, `time_per_step`, the
    `sgd_*` settings and `sgd_key`. `num_steps` counts the SGD steps completed.

    Closed-form predictors (`config.predictor` in `CLOSED_FORM_PREDICTORS`) are set from an EMA of
    minibatch statistics (`settings.rho`, every `settings.predictor_freq` steps; T19-T20,
    `set_closed_form_predictor`) with `config.predictor_alpha_effective`, `predictor_eps_effective`
    and `predictor_eps_convention`; the saved Wp is the predictor used by the step that produced the
    saved W. Non-Euclidean losses use the per-sample losses of `dynamics.flows.sampled_objective`.

    **Failures are reported, never raised:** a step whose state has a non-finite entry gives status
    `nonfinite`, one whose largest entry exceeds `config.divergence_threshold` gives `diverged`;
    saved values from that step on are NaN and `reached` is False there.

    With `config.dtype == "float64"` the run happens inside `jax.enable_x64()` (scoped, restored on
    return); with "float32" in float32.

    **Raises:** `ConfigError` when `config.model` is not "full".
    """
    if config.model != "full":
        raise ConfigError("model", config.model, "simulate_sgd needs model='full' (the matrix network)")
    n_saves = settings.n_saves
    flow_config = settings.flow_config(config)
    dtype = np.float64 if config.dtype == "float64" else np.float32
    stats = data_statistics(config)
    path = gradient_path(config)
    with jax.enable_x64(config.dtype == "float64"):
        state0 = BYOLState(*(jnp.asarray(a) for a in initial_state(config, dtype)))
        factors = ViewFactors(*(jnp.asarray(f) for f in view_factors(stats.X, stats.Xprime, dtype)))
        states, alive, status, count = _run(
            state0, factors, SGDHyper.from_settings(settings, dtype), key,
            jnp.asarray(config.divergence_threshold, dtype), PredictorHyper.from_settings(config, settings, dtype),
            path=path, decoupled=settings.decoupled,
            batch_size=settings.batch_size, n_segments=n_saves - 1, save_every=settings.save_interval)
        states = jax.tree_util.tree_map(np.asarray, states)
        reached = np.concatenate([[True], np.asarray(alive)])
        W, Wp, Wa = (np.concatenate([np.asarray(a0, np.float64)[None], np.asarray(a, np.float64)])
                     for a0, a in zip(state0, states))
        status, count = int(status), int(count)
        key_data = np.asarray(jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
                              else key).ravel().tolist()
    for array in (W, Wp, Wa):
        array[~reached] = np.nan
    extra = {
        "simulator": "sgd",
        "sgd_key": [int(k) for k in key_data],
        **settings.flat_attrs(),
        "flow_expectation": f"minibatch SGD on the {config.loss} loss (batch {settings.batch_size})",
    }
    if path.predictor_is_closed_form:
        extra["predictor_record"] = (f"closed form {config.predictor} of an EMA (rho {settings.rho:g}) of minibatch"
                                     f" statistics, set every {settings.predictor_freq} steps (T19)")
    X, XS = stats.X, stats.X + stats.Xprime
    ds = full_dataset(flow_config, ts=save_times(flow_config), W=W, Wp=Wp, Wa=Wa, X=X, XS=XS, status=status,
                      reached=reached, num_steps=count, extra=extra)
    return with_kernel_entropy(ds, config=flow_config, W=W)
