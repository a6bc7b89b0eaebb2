r"""Optimizers and schedules of the bridge (optax), and the flow time they imply.

- SGD: per parameter group, $g \leftarrow g + wd\,\theta$ (coupled decay, PyTorch's `weight_decay`,
  kernels only), then heavy-ball momentum $b \leftarrow \mu b + g$, $\theta \leftarrow \theta - a_k b$
  (`optax.sgd`, PyTorch's convention) — the discrete run that THEORY.md §1 maps to the flow.
- LARS: `optax.lars` (trust coefficient `lars_trust`; biases and BatchNorm parameters excluded from both
  the decay and the trust ratio). Its per-layer trust ratio rescales each layer's step, so the flow map
  of §1 does not apply to it: runs record `flow_mapping = "approximate (lars)"`.
- The predictor is its own group: learning rate $a_k \cdot$ `predictor_lr_mult` ($\alpha_p$) and decay
  `predictor_weight_decay`.
- Learning rate: linear warm-up then cosine decay to 0 (`optax.warmup_cosine_decay_schedule`), or constant.
- EMA momentum: BYOL's $\gamma_k = 1 - (1 - \gamma)(\cos(\pi k / K) + 1)/2$ (rises to 1), or constant.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._config import TrainConfig

__all__ = ["lr_schedule", "ema_schedule", "make_optimizer", "decay_mask", "flow_times", "steps_for"]


def lr_schedule(config: TrainConfig, steps_per_epoch: int, total_steps: int) -> Callable[[jax.Array], jax.Array]:
    """Learning rate at step k (peak `config.lr`)."""
    if config.lr_schedule == "constant":
        return optax.constant_schedule(config.lr)
    warmup = min(int(round(config.warmup_epochs * steps_per_epoch)), max(total_steps - 1, 0))
    return optax.warmup_cosine_decay_schedule(0.0 if warmup else config.lr, config.lr, warmup, max(total_steps, 1),
                                              end_value=0.0)


def ema_schedule(config: TrainConfig, total_steps: int) -> Callable[[jax.Array], jax.Array]:
    r"""EMA momentum $\gamma_k$ at step k: BYOL's cosine rise from `ema_momentum` to 1, or constant."""
    gamma = config.ema_momentum
    if config.ema_schedule == "constant":
        return lambda k: jnp.asarray(gamma, jnp.float32)
    def schedule(k: jax.Array) -> jax.Array:
        frac = jnp.asarray(k, jnp.float32) / jnp.float32(total_steps)
        return jnp.float32(1.0) - jnp.float32(1.0 - gamma) * (jnp.cos(jnp.float32(jnp.pi) * frac) + 1) / 2

    return schedule


def decay_mask(params) -> object:
    """True for weight matrices and convolution kernels (ndim > 1); biases and BatchNorm scales and
    offsets are excluded from weight decay and from LARS' trust ratio."""
    return jax.tree_util.tree_map(lambda p: jnp.ndim(p) > 1, params)


def _group(config: TrainConfig, schedule, mult: float, wd: float) -> optax.GradientTransformation:
    scaled = (lambda k: schedule(k) * mult) if mult != 1.0 else schedule
    if config.optimizer == "lars":
        return optax.lars(scaled, weight_decay=wd, weight_decay_mask=decay_mask, trust_coefficient=config.lars_trust,
                          trust_ratio_mask=decay_mask, momentum=config.momentum)
    return optax.chain(optax.add_decayed_weights(wd, mask=decay_mask),
                       optax.sgd(scaled, momentum=config.momentum or None))


def make_optimizer(config: TrainConfig, params: dict, schedule) -> optax.GradientTransformation:
    """The optimizer of the online parameters `{"tower": ..., "predictor": ...}`: one group each; any other
    subtree (DISSL / CISSL's `"heads"`) joins the tower's group."""
    groups = {"tower": _group(config, schedule, 1.0, config.weight_decay)}
    labels = {"tower": "tower"}
    if params.get("predictor"):
        groups["predictor"] = _group(config, schedule, config.predictor_lr_mult,
                                     config.predictor_weight_decay_effective)
        labels["predictor"] = "predictor"
    else:
        labels["predictor"] = "tower"  # an empty subtree
    label_tree = {key: jax.tree_util.tree_map(lambda _, lab=labels.get(key, "tower"): lab, sub)
                  for key, sub in params.items()}
    return optax.multi_transform(groups, label_tree)


def flow_times(config: TrainConfig, schedule, total_steps: int) -> np.ndarray:
    r"""Flow time after k steps, k = 0..total_steps: $t_k = \sum_{i<k} s\, a_i / (1 - \mu)$ with $s$ the
    loss scale (`TrainConfig.loss_scale`), THEORY.md §1 with a per-step learning rate."""
    lrs = np.asarray(jax.vmap(schedule)(jnp.arange(total_steps)), dtype=np.float64) if total_steps else np.zeros(0)
    per_step = config.loss_scale * lrs / (1.0 - config.momentum)
    return np.concatenate([[0.0], np.cumsum(per_step)])


def steps_for(config: TrainConfig, n_pretrain: int) -> tuple[int, int]:
    """(steps per epoch, total steps): epochs of floor(N / batch) steps (the last partial batch dropped),
    or `config.steps`."""
    spe = n_pretrain // config.batch_size
    if spe < 1:
        from ..config import ConfigError

        raise ConfigError("batch_size", config.batch_size, f"must be <= the {n_pretrain} pre-training examples")
    total = config.steps if config.steps is not None else config.epochs * spe
    return spe, int(total)
