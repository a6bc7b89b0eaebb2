r"""The trainable heads of DISSL and CISSL (THEORY.md §10 [DHEL22]) as a parameter subtree.

A linear student head $z \mapsto Az + b$ (the linear probe's family) and an MLP teacher head
$z \mapsto W_2\,\mathrm{relu}(W_1 z + b_1) + b_2$, both with K outputs (`n_prototypes`: DISSL's
prototypes, CISSL's embedding width), on the online projection z of each view. They live in
`params["heads"]` (so the optimizer, its weight decay on the matrices, and the checkpoints include them)
as the plain dict `{"A", "b", "W1", "b1", "W2", "b2"}`, the fields of the simulator's `ISSLParams`, and
start as the simulator's heads do (`dynamics.issl.params_from_gaussian`: N(0, 1/fan-in) weights, zero
biases).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..issl import ISSLParams, n_random_weights, params_from_gaussian

__all__ = ["HEAD_KEYS", "init_heads", "heads_as_issl_params"]

#: The head parameters, in `ISSLParams`' order (its encoder `W` is the bridge's tower, not a head).
HEAD_KEYS = ("A", "b", "W1", "b1", "W2", "b2")
#: Folded into the run's seed for the heads' initial draw (the towers use their own `nnx.Rngs` stream).
_HEAD_SEED_TAG = 0x4EAD


def init_heads(dim: int, n_prototypes: int, hidden: int, seed: int) -> dict[str, Array]:
    r"""Initial heads on `dim`-dimensional projections: the simulator's initialization
    (`params_from_gaussian` with a one-column encoder, which is dropped) from a standard normal vector
    drawn with `fold_in(key(seed), tag)`.

    **Returns:** `{"A": (K, dim), "b": (K,), "W1": (hidden, dim), "b1": (hidden,), "W2": (K, hidden),
    "b2": (K,)}` in float32."""
    key = jax.random.fold_in(jax.random.key(seed), _HEAD_SEED_TAG)
    flat = jax.random.normal(key, (n_random_weights(1, dim, n_prototypes, hidden),), jnp.float32)
    params = params_from_gaussian(flat, 1, dim, n_prototypes, hidden, jnp.float32(1.0))
    return {name: jnp.asarray(getattr(params, name), jnp.float32) for name in HEAD_KEYS}


def heads_as_issl_params(heads: dict[str, Array]) -> ISSLParams:
    """The heads as the simulator's `ISSLParams` (its encoder slot empty: the losses never read it)."""
    return ISSLParams(jnp.zeros((0, 0), heads["A"].dtype), *(heads[name] for name in HEAD_KEYS))
