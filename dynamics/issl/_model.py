r"""The ISSL network: linear encoder, linear student head, MLP teacher head, THEORY.md §10 [DHEL22]."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._settings import ISSLSettings

__all__ = ["ISSLParams", "init_params", "n_random_weights", "params_from_gaussian", "encode", "student_logits",
           "teacher_logits"]


class ISSLParams(NamedTuple):
    r"""Trained weights: encoder `W` (n2 x n1); student head `A` (K x n2), `b` (K); teacher MLP
    `W1` (H x n2), `b1` (H), `W2` (K x H), `b2` (K)."""

    W: Float[Array, "n2 n1"]
    A: Float[Array, "K n2"]
    b: Float[Array, " K"]
    W1: Float[Array, "H n2"]
    b1: Float[Array, " H"]
    W2: Float[Array, "K H"]
    b2: Float[Array, " K"]


def init_params(settings: ISSLSettings, *, key: Array, dtype=jnp.float64) -> ISSLParams:
    r"""W with N(0, `init_scale`^2/n1) entries; head weights with N(0, 1/fan_in) entries (LeCun
    normal); biases zero."""
    sizes = (settings.n1, settings.n2, settings.n_prototypes, settings.teacher_hidden)
    flat = jax.random.normal(key, (n_random_weights(*sizes),), dtype=dtype)
    return params_from_gaussian(flat, *sizes, jnp.asarray(settings.init_scale, dtype))


def n_random_weights(n1: int, n2: int, K: int, H: int) -> int:
    """Number of random entries of `ISSLParams` (W, A, W1, W2; biases start at zero)."""
    return n2 * n1 + K * n2 + H * n2 + K * H


@partial(jax.jit, static_argnames=("n1", "n2", "K", "H"))
def params_from_gaussian(flat: Float[Array, " N"], n1: int, n2: int, K: int, H: int, init_scale: Array
                         ) -> ISSLParams:
    """`init_params` from a given standard Gaussian vector of length `n_random_weights` (split in the
    order W, A, W1, W2); the sizes are static integers, `init_scale` may be a traced array."""
    dtype = flat.dtype
    shapes = ((n2, n1), (K, n2), (H, n2), (K, H))
    sizes = [a * b for a, b in shapes]
    parts = jnp.split(flat, np.cumsum(sizes)[:-1])
    W, A, W1, W2 = (p.reshape(shape) / np.sqrt(shape[1]) for p, shape in zip(parts, shapes))
    return ISSLParams(init_scale * W, A, jnp.zeros(K, dtype), W1, jnp.zeros(H, dtype), W2, jnp.zeros(K, dtype))


def encode(params: ISSLParams, x: Float[Array, "B n1"]) -> Float[Array, "B n2"]:
    """Codes z = W x (rows)."""
    return x @ params.W.T


def student_logits(params: ISSLParams, z: Float[Array, "B n2"]) -> Float[Array, "B K"]:
    """Linear student head A z + b (the linear probe's family)."""
    return z @ params.A.T + params.b


def teacher_logits(params: ISSLParams, z: Float[Array, "B n2"]) -> Float[Array, "B K"]:
    """MLP teacher head W2 relu(W1 z + b1) + b2."""
    return jax.nn.relu(z @ params.W1.T + params.b1) @ params.W2.T + params.b2
