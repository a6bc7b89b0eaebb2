"""The networks of one run as pure functions over pytrees: graph definitions, initial state, applies.

flax NNX modules are split once into a static graph definition and pure-dict parameters / BatchNorm
statistics (`nnx.split` outside, `nnx.merge` inside `jax.jit`, the flax performance guide's pattern),
so the training step is a plain jitted function of a `TrainState` pytree. The online and the target
network share one graph definition; the predictor has its own (or none: identity and closed forms).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from ..config import CLOSED_FORM_PREDICTORS
from ..flows import PredictorStatistics
from ._config import TrainConfig
from ._heads import init_heads
from ._models import build_predictor, build_tower

__all__ = ["Networks", "TrainState", "build_networks", "tower_apply", "predictor_apply", "predictor_matrix",
           "linear_weights", "last_layer", "compute_dtype"]


class TrainState(NamedTuple):
    """Everything a step changes (a pytree of arrays; pure dicts for the flax states).

    - `params`: `{"tower": ..., "predictor": ...}` online parameters (predictor empty when not trained),
      plus `"heads"` for DISSL and CISSL (`_heads.py`: student and teacher heads);
    - `stats`: their BatchNorm running statistics, same layout;
    - `target_params`, `target_stats`: the EMA target tower (equal to the online tower for SimSiam,
      where it is not used);
    - `opt_state`: optax state of `params`;
    - `probe_params`, `probe_opt_state`: the online linear probe on detached features;
    - `pred_stats`: EMA of the predictor-input statistics (F, C, C_to), (T19); `Wp`: the predictor in
      use for closed forms (held between updates when `predictor_freq` > 1);
    - `step`: the number of steps taken.
    """

    step: jax.Array
    params: dict
    stats: dict
    target_params: dict
    target_stats: dict
    opt_state: Any
    probe_params: dict
    probe_opt_state: Any
    pred_stats: PredictorStatistics
    Wp: jax.Array


@dataclass(frozen=True, eq=False)
class Networks:
    """Static description of the networks of a run (graph definitions are hashable, used as jit statics).
    `predictor_kind` is the method's predictor: a trained one, `identity`, a closed form, or `none`
    (DISSL / CISSL: heads instead of a predictor, measured as the identity)."""

    tower_graph: Any
    tower_eval_graph: Any
    predictor_graph: Any | None
    predictor_kind: str
    feature_dim: int
    predictor_dim: int
    dtype: Any
    projector_output_bn: bool = False

    @property
    def closed_form(self) -> bool:
        return self.predictor_kind in CLOSED_FORM_PREDICTORS


def compute_dtype(config: TrainConfig) -> Any:
    """bfloat16 compute on a GPU (or when asked), float32 otherwise; parameters are always float32."""
    if config.precision == "bfloat16" or (config.precision == "auto" and jax.default_backend() == "gpu"):
        return jnp.bfloat16
    return None


def _split(module: nnx.Module) -> tuple[Any, dict, dict]:
    graph, params, stats = nnx.split(module, nnx.Param, nnx.BatchStat)
    return graph, nnx.to_pure_dict(params), nnx.to_pure_dict(stats)


def build_networks(config: TrainConfig, input_shape: tuple[int, ...], num_classes: int
                   ) -> tuple[Networks, dict, dict, dict]:
    """Graph definitions and initial (params, stats, probe params) from `config.seed`.

    The target starts as a copy of the online tower (BYOL); the online probe is a zero-initialized
    linear classifier on the encoder's features; DISSL and CISSL add their heads (`params["heads"]`,
    `_heads.init_heads`) on the tower's output."""
    feat, _, _, pred_hidden = config.widths
    stem = config.stem
    if stem == "auto":
        stem = "stl" if len(input_shape) == 3 and input_shape[0] >= 64 else "cifar"
    dtype = compute_dtype(config)
    spec = config.method_spec

    def build(key: jax.Array | None = None) -> tuple[nnx.Module, nnx.Module | None]:
        rngs = nnx.Rngs(params=jax.random.key(config.seed) if key is None else key)
        tower = build_tower(config.model, input_shape, config.widths, stem, config.projector_output_bn_effective,
                            dtype=dtype, rngs=rngs)
        predictor = build_predictor(spec.predictor, config.predictor_dim, pred_hidden, config.predictor_init,
                                    config.predictor_init_scale, dtype=dtype, rngs=rngs)
        return tower, predictor

    def initial_values(key):  # one compiled program (not one per initializer), the same for every seed
        tower, predictor = build(key)
        return _split(tower)[1:], None if predictor is None else _split(predictor)[1:]

    tower, predictor = nnx.eval_shape(build)   # graph definitions from abstract modules
    (tower_params, tower_stats), pred_values = jax.jit(initial_values)(jax.random.key(config.seed))
    tower.train()
    tower_graph = nnx.graphdef(tower)
    tower.eval()
    tower_eval_graph = nnx.graphdef(tower)
    params, stats = {"tower": tower_params, "predictor": {}}, {"tower": tower_stats, "predictor": {}}
    predictor_graph = None
    if predictor is not None:
        predictor.train()
        predictor_graph = nnx.graphdef(predictor)
        params["predictor"], stats["predictor"] = pred_values
    if config.method_family == "issl":
        params["heads"] = init_heads(config.predictor_dim, config.n_prototypes, config.head_hidden, config.seed)
    feature_dim = tower.encoder.features
    probe = {"kernel": jnp.zeros((feature_dim, num_classes), jnp.float32),
             "bias": jnp.zeros((num_classes,), jnp.float32)}
    nets = Networks(tower_graph, tower_eval_graph, predictor_graph, spec.predictor, feature_dim,
                    config.predictor_dim, dtype, config.projector_output_bn_effective and bool(config.widths[2]))
    return nets, params, stats, probe


def tower_apply(graph: Any, params: dict, stats: dict, x: jax.Array) -> tuple[tuple[jax.Array, jax.Array], dict]:
    """((features h, projection f), updated BatchNorm statistics) of a tower on the batch `x`
    (train-mode graphs use and update the batch statistics; eval-mode graphs use the running ones)."""
    model = nnx.merge(graph, params, stats)
    h, f = model(x)
    _, _, new_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    return (h.astype(jnp.float32), f.astype(jnp.float32)), nnx.to_pure_dict(new_stats)


def predictor_apply(nets: Networks, params: dict, stats: dict, Wp: jax.Array, f: jax.Array
                    ) -> tuple[jax.Array, dict]:
    r"""The prediction $p$ of the features `f` (rows) and the predictor's updated statistics: a trained
    predictor's forward pass, $p = W_p f$ for closed forms (`Wp` given, no gradient through it), or
    $p = f$ (identity)."""
    if nets.predictor_graph is not None:
        model = nnx.merge(nets.predictor_graph, params, stats)
        p = model(f)
        _, _, new_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
        return p.astype(jnp.float32), nnx.to_pure_dict(new_stats)
    if nets.closed_form:
        return f @ jax.lax.stop_gradient(Wp).T, stats
    return f, stats


def predictor_matrix(nets: Networks, params: dict, Wp: jax.Array) -> jax.Array | None:
    r"""$W_p$ (column convention) for linear and closed-form predictors, the identity for none (`identity`,
    and `none`: DISSL / CISSL), None for an MLP predictor."""
    if nets.closed_form:
        return Wp
    if nets.predictor_kind in ("identity", "none"):
        return jnp.eye(nets.predictor_dim, dtype=jnp.float32)
    if nets.predictor_kind in ("linear", "symmetric"):
        k = params["predictor"]["kernel"]
        return 0.5 * (k + k.T) if nets.predictor_kind == "symmetric" else k.T
    return None


def linear_weights(params: dict) -> np.ndarray | None:
    """W (features x inputs) of a linear encoder without projector, else None."""
    enc = params["tower"].get("encoder", {})
    if set(enc) == {"fc"} and set(enc["fc"]) == {"kernel"} and not params["tower"].get("projector"):
        return np.asarray(enc["fc"]["kernel"]).T
    return None


def last_layer(params: dict, nets: Networks | None = None) -> jax.Array | None:
    r"""$\tilde W = [W\ b]$ of the layer feeding the predictor (the projector's last layer, or a linear
    encoder), with its bias as an extra column; None when that layer is not linear (e.g. a projector that
    ends with BatchNorm)."""
    tower = params["tower"]
    if nets is not None and nets.projector_output_bn:
        return None
    if tower.get("projector"):
        fc = tower["projector"]["fc2"]
        return jnp.concatenate([fc["kernel"].T, fc["bias"][:, None]], axis=1)
    enc = tower.get("encoder", {})
    if set(enc) == {"fc"}:
        return enc["fc"]["kernel"].T
    return None
