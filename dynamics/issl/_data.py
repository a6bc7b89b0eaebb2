r"""Class-structured data with augmentations inside equivalence classes, THEORY.md §10 [DHEL22]."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ._settings import ISSLSettings

__all__ = ["ClassData", "class_data", "class_data_from_gaussian", "inputs_from_noise", "sample_class_views",
           "sample_class_inputs"]


class ClassData(NamedTuple):
    r"""The data model of `ISSLSettings`: `centres` $\mu_c$ (C x n1, rows), `noise_basis` B
    (n1 x (n1 - C), orthonormal columns spanning the complement of the centres), `noise_scale`.
    An input of class c is $x = \mu_c + $ `noise_scale` $\cdot B\xi$, $\xi \sim N(0, I)$; the
    equivalence class of x is the affine subspace $\mu_c + \mathrm{span}(B)$."""

    centres: Float[Array, "C n1"]
    noise_basis: Float[Array, "n1 m"]
    noise_scale: Float[Array, ""]

    @property
    def n_classes(self) -> int:
        return self.centres.shape[0]


def class_data(settings: ISSLSettings, *, key: Array, dtype=jnp.float64) -> ClassData:
    r"""Draw the data model: a Haar-random orthogonal $Q$ (QR of a Gaussian matrix, sign-fixed);
    centres $\mu_c$ = `class_scale` $\cdot Q_{:, c}$ for c < C, noise basis $Q_{:, C:}$."""
    gaussian = jax.random.normal(key, (settings.n1, settings.n1), dtype=dtype)
    return class_data_from_gaussian(gaussian, settings.n_classes, jnp.asarray(settings.class_scale, dtype),
                                    jnp.asarray(settings.noise_scale, dtype))


@partial(jax.jit, static_argnames=("n_classes",))
def class_data_from_gaussian(gaussian: Float[Array, "n1 n1"], n_classes: int, class_scale: Array,
                             noise_scale: Array) -> ClassData:
    """`class_data` from a given standard Gaussian n1 x n1 matrix (QR with the sign fix); the
    scales may be traced arrays."""
    q, r = jnp.linalg.qr(gaussian)
    q = q * jnp.sign(jnp.diag(r))
    return ClassData(class_scale * q[:, :n_classes].T, q[:, n_classes:], noise_scale)


def inputs_from_noise(data: ClassData, labels: Int[Array, " n"], xi: Float[Array, "n m"]) -> Float[Array, "n n1"]:
    r"""$x_i = \mu_{y_i} + \sigma B \xi_i$ for given standard Gaussian noise $\xi$ (n x (n1 - C))."""
    return data.centres[labels] + data.noise_scale * xi @ data.noise_basis.T


def sample_class_inputs(data: ClassData, labels: Int[Array, " n"], *, key: Array) -> Float[Array, "n n1"]:
    r"""One augmented input per label: $x_i = \mu_{y_i} + \sigma B \xi_i$."""
    xi = jax.random.normal(key, (labels.shape[0], data.noise_basis.shape[1]), dtype=data.centres.dtype)
    return inputs_from_noise(data, labels, xi)


@partial(jax.jit, static_argnames=("batch_size", "distinct"))
def sample_class_views(data: ClassData, batch_size: int, *, key: Array, distinct: bool = False
                       ) -> tuple[Float[Array, "B n1"], Float[Array, "B n1"], Int[Array, " B"]]:
    r"""A batch of view pairs: classes drawn uniformly over C (with replacement, or without it when
    `distinct`: then the batch holds `batch_size` <= C different classes), two independent
    augmentations of each (`sample_class_inputs`), and the labels. `batch_size` and `distinct`
    are static under jit."""
    k_label, k_noise = jax.random.split(key)
    if distinct:
        labels = jax.random.permutation(k_label, data.n_classes)[:batch_size]
    else:
        labels = jax.random.randint(k_label, (batch_size,), 0, data.n_classes)
    xi = jax.random.normal(k_noise, (2, batch_size, data.noise_basis.shape[1]), dtype=data.centres.dtype)
    return inputs_from_noise(data, labels, xi[0]), inputs_from_noise(data, labels, xi[1]), labels
