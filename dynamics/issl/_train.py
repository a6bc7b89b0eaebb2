r"""Train a linear encoder with DISSL (T29) or CISSL on class-structured data, THEORY.md §10
[DHEL22]: the optimizer and one compiled function for the whole run."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array

from ._data import ClassData, class_data_from_gaussian, inputs_from_noise, sample_class_views
from ._losses import issl_loss
from ._model import ISSLParams, encode, n_random_weights, params_from_gaussian
from ._settings import ISSLSettings, ISSLWeights

__all__ = ["issl_optimizer", "train_issl"]


def issl_optimizer(name: str, learning_rate, weight_decay, momentum) -> optax.GradientTransformation:
    r"""The optimizer of `ISSLSettings.optimizer` (the rates may be traced scalars):

    - `"sgd"`: $g + wd\,\theta$ (L2 decay added to the gradient, so the fixed points are those of
      the regularized loss), heavy-ball `momentum`, `learning_rate`;
    - `"adam"`: Adam, with AdamW's decoupled decay $-a\,wd\,\theta$ (not the gradient of a penalty).
    """
    if name == "sgd":
        return optax.chain(optax.add_decayed_weights(weight_decay), optax.sgd(learning_rate, momentum=momentum))
    return optax.adamw(learning_rate, weight_decay=weight_decay)


class _Static(NamedTuple):
    """The compiled-in part of `ISSLSettings` (sizes and choices)."""

    objective: str
    optimizer: str
    n_classes: int
    n1: int
    n2: int
    n_prototypes: int
    teacher_hidden: int
    batch_size: int
    distinct: bool
    save_every: int
    n_segments: int
    eval_per_class: int


@partial(jax.jit, static_argnames=("static",))
def _run(key: Array, numbers: dict[str, Array], weights: ISSLWeights, *, static: _Static):
    """Draw the data model, the initial weights, a fixed evaluation batch and the probe's train and
    test inputs, then train; one compiled function for the whole run."""
    # Few random draws (each costs compile time): one Gaussian vector for the data basis and W(0),
    # one for all evaluation noise; the training loop draws its own batches.
    k_init, k_train, k_eval = jax.random.split(key, 3)
    n1, C, B, E = static.n1, static.n_classes, static.batch_size, static.eval_per_class
    sizes = (n1, static.n2, static.n_prototypes, static.teacher_hidden)
    flat = jax.random.normal(k_init, (n1 * n1 + n_random_weights(*sizes),), dtype=numbers["init_scale"].dtype)
    data = class_data_from_gaussian(flat[: n1 * n1].reshape(n1, n1), C, numbers["class_scale"],
                                    numbers["noise_scale"])
    params = params_from_gaussian(flat[n1 * n1:], *sizes, numbers["init_scale"])
    eval_labels = jnp.arange(B) % C  # a fixed, balanced evaluation batch
    probe_labels = jnp.repeat(jnp.arange(C), E)
    xi = jax.random.normal(k_eval, (2 * B + 2 * C * E, n1 - C), dtype=flat.dtype)
    x1, x2 = (inputs_from_noise(data, eval_labels, xi[i * B:(i + 1) * B]) for i in (0, 1))
    probe = tuple(inputs_from_noise(data, probe_labels, xi[2 * B + i * C * E: 2 * B + (i + 1) * C * E])
                  for i in (0, 1))
    optimizer = issl_optimizer(static.optimizer, numbers["learning_rate"], numbers["weight_decay"],
                               numbers["momentum"])

    def objective_fn(p, x1, x2):
        return issl_loss(p, encode(p, x1), encode(p, x2), weights, static.objective)

    def step(carry, _):
        params, opt_state, key = carry
        key, sub = jax.random.split(key)
        b1, b2, _ = sample_class_views(data, static.batch_size, key=sub, distinct=static.distinct)
        grads, _ = jax.grad(objective_fn, has_aux=True)(params, b1, b2)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, key), None

    def evaluate(params):
        loss, parts = objective_fn(params, x1, x2)
        return params.W, loss, parts

    def segment(carry, _):
        carry, _ = jax.lax.scan(step, carry, None, length=static.save_every)
        return carry, evaluate(carry[0])

    carry0 = (params, optimizer.init(params), k_train)
    carry, saved = jax.lax.scan(segment, carry0, None, length=static.n_segments)
    saved = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), evaluate(params), saved)
    return carry[0], data, saved, probe


def train_issl(settings: ISSLSettings, *, key: Array) -> tuple[ISSLParams, ClassData, dict[str, np.ndarray]]:
    r"""Run the optimization of `settings` in float64 (inside `jax.enable_x64`, scoped). One key
    fixes the whole run: data basis and W(0) (one Gaussian draw), the batches, and the fixed
    evaluation batch (`batch_size` view pairs with labels `arange(batch_size) % C`).
    Only the sizes, `objective`, `optimizer`, `batch_size`, `batch_classes`, `save_every` and
    `steps` are compiled in; other numbers are traced (changing them does not recompile).

    **Returns:** the final `ISSLParams`, the `ClassData`, and a dict: the saved `W` (saves x n2 x n1),
    `loss` and the loss parts (evaluated on the fixed evaluation batch), and the
    probe inputs `probe_train`, `probe_test` (`eval_per_class` inputs of each class in turn, labels
    `np.repeat(np.arange(C), eval_per_class)`).
    """
    static = _Static(settings.objective, settings.optimizer, settings.n_classes, settings.n1, settings.n2,
                     settings.n_prototypes, settings.teacher_hidden, settings.batch_size,
                     settings.batch_classes == "distinct", settings.save_every, settings.n_saves - 1,
                     settings.eval_per_class)
    names = ("class_scale", "noise_scale", "init_scale", "learning_rate", "weight_decay", "momentum")
    with jax.enable_x64(True):
        numbers = {name: jnp.asarray(getattr(settings, name), jnp.float64) for name in names}
        weights = ISSLWeights(*(jnp.asarray(w, jnp.float64) for w in settings.weights()))
        final, data, (W, loss, parts), probe = _run(key, numbers, weights, static=static)
        out = {"W": np.asarray(W), "loss": np.asarray(loss), "probe_train": np.asarray(probe[0]),
               "probe_test": np.asarray(probe[1])}
        out.update({name: np.asarray(v) for name, v in parts.items()})
        final = ISSLParams(*(np.asarray(a) for a in final))
        data = ClassData(*(np.asarray(a) for a in data))
    return final, data, out
