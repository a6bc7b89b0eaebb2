r"""One training step of a non-contrastive method, as a pure function of a `TrainState`.

For a batch $x$ and two augmented views $v_1, v_2$ (each through BatchNorm separately):

- online: $(h_i, f_i) = \mathrm{tower}(v_i)$, prediction $p_i = \mathrm{predictor}(f_i)$;
- target: $g_i$ = the EMA tower's projection of $v_i$ (BYOL), or $f_i$ itself (SimSiam);
  with the stop-gradient $t_i = \mathrm{sg}(g_i)$; without it the target branch carries gradient into
  the online network, $t_i = \mathrm{sg}(g_i) + f_i - \mathrm{sg}(f_i)$ (the simulator's routing, T5);
- loss, symmetrized over the view order: $L = \tfrac12 [\bar\ell(p_1, t_2) + \bar\ell(p_2, t_1)]$ with the
  simulator's per-sample losses: Euclidean $\tfrac12\|p - t\|^2$ (T1) or BYOL's cosine loss
  $2 - 2\cos(p, t) = 2 + 2\,$`cosine_sample_loss` (twice the simulator's $-\cos$ gradient; the flow map
  accounts for it, `TrainConfig.loss_scale`); their IsoLoss (§7, T23: the prediction is made from
  $\mathrm{sg}(f_i)$ and $f_i$ receives $\partial\bar\ell/\partial p_i$, `isoloss_training_loss`); or ER
  (T27-T28, `er_training_loss`: vMF reconstruction of $t_{i'}$ from $p_i$ minus the kernel entropy of $f_i$);
- DISSL (T29) and CISSL (§10) skip target and predictor: `issl_training_loss` of $(f_1, f_2)$ through the
  heads `params["heads"]`, with gradient through both views;
- closed-form predictors (DirectPred, DirectCopy and the rest of §6-§8): the statistics
  $(F, C, C_{to})$ of this batch's predictor inputs (`dynamics.flows.feature_statistics`, pairs in both
  orders) update an EMA at rate $\rho$ (T19; the first step takes the batch value), and every
  `predictor_freq` steps $W_p$ = `dynamics.flows.closed_form_predictor` of the EMA (the simulator's
  function), entering the loss as a constant;
- the optimizer updates the online tower and a trained predictor; the target follows
  $\theta_a \leftarrow \gamma_k \theta_a + (1 - \gamma_k)\theta$ (`optax.incremental_update`);
- an online linear probe on the detached features $h_1$ (labelled examples only) takes one Adam step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

from ..flows import closed_form_predictor, feature_statistics
from ..issl import ISSLWeights
from ._config import TrainConfig
from ._losses import COSINE_FLOOR, er_training_loss, isoloss_training_loss, issl_training_loss, training_loss
from ._networks import Networks, TrainState, predictor_apply, tower_apply

__all__ = ["StepSpec", "make_step_spec", "make_train_step", "training_loss", "PROBE_LR", "probe_optimizer",
           "COSINE_FLOOR"]

#: Learning rate of the online probe's Adam optimizer (on detached features; no weight decay).
PROBE_LR = 1e-3


def probe_optimizer() -> optax.GradientTransformation:
    return optax.adam(PROBE_LR)


@dataclass(frozen=True, eq=False)
class StepSpec:
    """The static choices of a step: networks, target, stop-gradient, loss (`euclidean`, `cosine`,
    `isoloss_euclidean`, `isoloss_cosine`, `er`, `dissl`, `cissl`), closed-form settings, the view sampler
    `views(key, batch) -> (v1, v2)`, and the objectives' constants: `kappa` (ER) and `issl_weights`
    (DISSL / CISSL: an `ISSLWeights`)."""

    nets: Networks
    target: str
    stop_gradient: bool
    loss: str
    predictor_alpha: float
    predictor_eps: float
    eps_convention: str
    rho: float
    predictor_freq: int
    views: Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]
    kappa: float = 10.0
    issl_weights: ISSLWeights | None = None


def make_step_spec(config: TrainConfig, nets: Networks,
                   views: Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]) -> StepSpec:
    """The `StepSpec` of `config`'s run (its method resolved, `TrainConfig.method_spec`)."""
    spec = config.method_spec
    weights = ISSLWeights(config.dissl_lambda, config.dissl_beta, config.cissl_temperature,
                          config.teacher_temperature, config.student_temperature)
    return StepSpec(nets, spec.target, spec.stop_gradient, spec.loss, config.predictor_alpha_effective,
                    config.predictor_eps_effective, config.predictor_eps_convention, config.rho,
                    config.predictor_freq, views, kappa=config.er_kappa,
                    issl_weights=weights if config.method_family == "issl" else None)


def _closed_form_wp(spec: StepSpec, state: TrainState, f1, f2, g1, g2):
    sg = jax.lax.stop_gradient
    batch = feature_statistics(sg(jnp.concatenate([f1, f2])), sg(jnp.concatenate([f2, f1])),
                               sg(jnp.concatenate([g2, g1])))
    first = state.step == 0
    stats = jax.tree_util.tree_map(lambda old, new: jnp.where(first, new, spec.rho * old + (1.0 - spec.rho) * new),
                                   state.pred_stats, batch)
    Wp = closed_form_predictor(spec.nets.predictor_kind, stats, jnp.float32(spec.predictor_alpha),
                               jnp.float32(spec.predictor_eps), spec.eps_convention)
    Wp = jnp.where(state.step % spec.predictor_freq == 0, Wp, state.Wp)
    return stats, Wp


def _forward_loss(spec: StepSpec, state: TrainState, params: dict, v1, v2):
    nets, sg = spec.nets, jax.lax.stop_gradient
    (h1, f1), tstats = tower_apply(nets.tower_graph, params["tower"], state.stats["tower"], v1)
    (h2, f2), tstats = tower_apply(nets.tower_graph, params["tower"], tstats, v2)
    if spec.loss in ("dissl", "cissl"):  # heads on both views, no target, no predictor
        loss, _ = issl_training_loss(spec.loss, params["heads"], f1, f2, spec.issl_weights)
        aux = {"stats": {"tower": tstats, "predictor": state.stats["predictor"]},
               "target_stats": state.target_stats, "h1": sg(h1), "pred_stats": state.pred_stats, "Wp": state.Wp}
        return loss, aux
    if spec.target == "ema":
        (_, g1), target_stats = tower_apply(nets.tower_graph, state.target_params, state.target_stats, v1)
        (_, g2), target_stats = tower_apply(nets.tower_graph, state.target_params, target_stats, v2)
        g1, g2 = sg(g1), sg(g2)
    else:
        g1, g2, target_stats = f1, f2, state.target_stats
    if spec.stop_gradient:
        t1, t2 = sg(g1), sg(g2)
    elif spec.target == "ema":
        t1, t2 = g1 + f1 - sg(f1), g2 + f2 - sg(f2)
    else:
        t1, t2 = f1, f2
    pred_stats, Wp = state.pred_stats, state.Wp
    if nets.closed_form:
        pred_stats, Wp = _closed_form_wp(spec, state, f1, f2, g1, g2)
    iso = spec.loss.startswith("isoloss_")
    # IsoLoss: the prediction is made from the detached output, which then receives dL/dp directly
    q1, q2 = (sg(f1), sg(f2)) if iso else (f1, f2)
    p1, pstats = predictor_apply(nets, params["predictor"], state.stats["predictor"], Wp, q1)
    p2, pstats = predictor_apply(nets, params["predictor"], pstats, Wp, q2)
    if iso:
        base = spec.loss.removeprefix("isoloss_")
        loss = 0.5 * (isoloss_training_loss(base, p1, f1, t2) + isoloss_training_loss(base, p2, f2, t1))
    elif spec.loss == "er":
        loss = er_training_loss(p1, p2, t1, t2, f1, f2, spec.kappa)
    else:
        loss = 0.5 * (training_loss(spec.loss, p1, t2) + training_loss(spec.loss, p2, t1))
    aux = {"stats": {"tower": tstats, "predictor": pstats}, "target_stats": target_stats, "h1": sg(h1),
           "pred_stats": pred_stats, "Wp": Wp}
    return loss, aux


def _probe_step(state: TrainState, h: jax.Array, y: jax.Array):
    def probe_loss(probe):
        logits = h @ probe["kernel"] + probe["bias"]
        labelled = y >= 0
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, jnp.where(labelled, y, 0))
        n = jnp.maximum(jnp.sum(labelled), 1)
        correct = jnp.sum((jnp.argmax(logits, -1) == y) & labelled)
        return jnp.sum(jnp.where(labelled, ce, 0.0)) / n, correct / n

    (loss, acc), grads = jax.value_and_grad(probe_loss, has_aux=True)(state.probe_params)
    updates, opt_state = probe_optimizer().update(grads, state.probe_opt_state, state.probe_params)
    return optax.apply_updates(state.probe_params, updates), opt_state, loss, acc


def make_train_step(spec: StepSpec, optimizer: optax.GradientTransformation,
                    ema: Callable[[jax.Array], jax.Array]) -> Callable[..., tuple[TrainState, dict[str, Any]]]:
    """The (un-jitted) step `step(state, data, labels, idx, key) -> (state, metrics)`.

    `data` and `labels` are the whole (device-resident) pre-training set, `idx` the batch's indices,
    `key` the run's base key: the step's randomness is `fold_in(key, state.step)`, so a resumed run
    draws exactly the views an uninterrupted one would. Metrics: `loss`, `probe_loss`, `probe_accuracy`
    (on the batch, before the probe's step) and `ema_momentum`."""

    def step(state: TrainState, data: jax.Array, labels: jax.Array, idx: jax.Array, key: jax.Array):
        x = jnp.take(data, idx, axis=0)
        y = jnp.take(labels, idx, axis=0)
        v1, v2 = spec.views(jax.random.fold_in(key, state.step), x)
        (loss, aux), grads = jax.value_and_grad(lambda p: _forward_loss(spec, state, p, v1, v2), has_aux=True)(
            state.params)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        gamma = ema(state.step)
        if spec.target == "ema":
            target_params = optax.incremental_update(params["tower"], state.target_params, 1.0 - gamma)
        else:
            target_params = state.target_params
        probe_params, probe_opt_state, probe_loss, probe_acc = _probe_step(state, aux["h1"], y)
        new = TrainState(state.step + 1, params, aux["stats"], target_params, aux["target_stats"], opt_state,
                         probe_params, probe_opt_state, aux["pred_stats"], aux["Wp"])
        return new, {"loss": loss, "probe_loss": probe_loss, "probe_accuracy": probe_acc, "ema_momentum": gamma}

    return step
