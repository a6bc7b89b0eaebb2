"""The networks of the bridge (flax NNX): encoders, the projector and the trained predictors.

- `ResNet`: ResNet-18 (basic blocks 2-2-2-2, widths 64-512) with the CIFAR stem (3x3 conv, stride 1,
  no max-pool) or the STL-10 / ImageNet stem (7x7 conv, stride 2, 3x3 max-pool); `resnet_small` is the
  same design with widths 16-32-64 and one block per stage, for CPU work.
- `MLPEncoder` (two Linear-BN-ReLU layers on flattened inputs), `LinearEncoder` (one linear map
  without bias: the theory's W, THEORY.md §1) and `DeepLinearEncoder` (two, no nonlinearity).
- `Projector`: Linear -> BN -> ReLU -> Linear (BYOL's projector MLP).
- `LinearPredictor` (the theory's Wp, optionally symmetric) and `MLPPredictor` (BYOL's).

BatchNorm uses flax's momentum convention (weight of the old running average): 0.9, i.e. PyTorch's
0.1, as in DeepMind's BYOL. `Tower` is an encoder followed by the projector (or nothing): the online
and the target network are two `Tower`s with one graph definition.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

__all__ = ["ResNet", "resnet18", "resnet_small", "MLPEncoder", "LinearEncoder", "DeepLinearEncoder", "Projector",
           "Tower",
           "LinearPredictor", "MLPPredictor", "build_tower", "build_predictor", "BN_MOMENTUM"]

#: Hidden width of the deep linear encoder.
DEEP_LINEAR_HIDDEN = 32
#: flax BatchNorm momentum (weight of the old average): 0.9 = PyTorch's momentum 0.1.
BN_MOMENTUM = 0.9


def _bn(n: int, dtype, rngs: nnx.Rngs) -> nnx.BatchNorm:
    return nnx.BatchNorm(n, momentum=BN_MOMENTUM, epsilon=1e-5, dtype=dtype, rngs=rngs)


def _conv(cin: int, cout: int, k: int, stride: int, dtype, rngs: nnx.Rngs) -> nnx.Conv:
    pad = k // 2  # PyTorch's symmetric padding (flax's "SAME" pads stride-2 convolutions asymmetrically)
    return nnx.Conv(cin, cout, (k, k), strides=stride, padding=((pad, pad), (pad, pad)), use_bias=False,
                    dtype=dtype, kernel_init=nnx.initializers.kaiming_normal(), rngs=rngs)


class BasicBlock(nnx.Module):
    """relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x)); shortcut = 1x1 conv + BN on a change of
    shape."""

    def __init__(self, cin: int, cout: int, stride: int, *, dtype, rngs: nnx.Rngs):
        self.conv1 = _conv(cin, cout, 3, stride, dtype, rngs)
        self.bn1 = _bn(cout, dtype, rngs)
        self.conv2 = _conv(cout, cout, 3, 1, dtype, rngs)
        self.bn2 = _bn(cout, dtype, rngs)
        if stride != 1 or cin != cout:
            self.proj_conv = nnx.Conv(cin, cout, (1, 1), strides=stride, use_bias=False, dtype=dtype,
                                      kernel_init=nnx.initializers.kaiming_normal(), rngs=rngs)
            self.proj_bn = _bn(cout, dtype, rngs)
        else:
            self.proj_conv = None
            self.proj_bn = None

    def __call__(self, x: jax.Array) -> jax.Array:
        y = nnx.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        shortcut = x if self.proj_conv is None else self.proj_bn(self.proj_conv(x))
        return nnx.relu(y + shortcut)


class ResNet(nnx.Module):
    """A ResNet with basic blocks; `__call__` returns the globally average-pooled features."""

    def __init__(self, widths: tuple[int, ...], blocks: tuple[int, ...], stem: str, in_channels: int = 3, *,
                 dtype=None, rngs: nnx.Rngs):
        if stem not in ("cifar", "stl"):
            raise ValueError(f"stem = {stem!r}: must be cifar or stl")
        self.stem = stem
        k, s = (3, 1) if stem == "cifar" else (7, 2)
        self.stem_conv = _conv(in_channels, widths[0], k, s, dtype, rngs)
        self.stem_bn = _bn(widths[0], dtype, rngs)
        layers = []
        cin = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(cin, w, 2 if (i > 0 and j == 0) else 1, dtype=dtype, rngs=rngs))
                cin = w
        self.layers = nnx.List(layers)
        self.features = cin

    def __call__(self, x: jax.Array) -> jax.Array:
        y = nnx.relu(self.stem_bn(self.stem_conv(x)))
        if self.stem == "stl":
            y = nnx.max_pool(y, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        for layer in self.layers:
            y = layer(y)
        return jnp.mean(y, axis=(1, 2))


def resnet18(stem: str, in_channels: int = 3, *, dtype=None, rngs: nnx.Rngs) -> ResNet:
    """ResNet-18: widths 64-128-256-512, two basic blocks per stage, 512 features."""
    return ResNet((64, 128, 256, 512), (2, 2, 2, 2), stem, in_channels, dtype=dtype, rngs=rngs)


def resnet_small(stem: str, in_channels: int = 3, *, dtype=None, rngs: nnx.Rngs) -> ResNet:
    """A small ResNet for CPU work: widths 16-32-64, one basic block per stage, 64 features."""
    return ResNet((16, 32, 64), (1, 1, 1), stem, in_channels, dtype=dtype, rngs=rngs)


class MLPEncoder(nnx.Module):
    """Flatten -> [Linear -> BN -> ReLU] -> [Linear -> BN -> ReLU]: `features` outputs."""

    def __init__(self, in_features: int, hidden: int, features: int, *, dtype=None, rngs: nnx.Rngs):
        self.fc1 = nnx.Linear(in_features, hidden, dtype=dtype, rngs=rngs)
        self.bn1 = _bn(hidden, dtype, rngs)
        self.fc2 = nnx.Linear(hidden, features, dtype=dtype, rngs=rngs)
        self.bn2 = _bn(features, dtype, rngs)
        self.features = features

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        return nnx.relu(self.bn2(self.fc2(nnx.relu(self.bn1(self.fc1(x))))))


class LinearEncoder(nnx.Module):
    r"""$z = W x$ on flattened inputs, no bias: the online network of the linear theory (THEORY.md §1).
    $W$ (features x inputs) starts with N(0, 1/inputs) entries, the simulator's `init="random"` at scale 1.
    flax stores the kernel as $W^T$ (inputs x features)."""

    def __init__(self, in_features: int, features: int, *, dtype=None, rngs: nnx.Rngs):
        self.fc = nnx.Linear(in_features, features, use_bias=False, dtype=dtype,
                             kernel_init=nnx.initializers.normal(1.0 / math.sqrt(in_features)), rngs=rngs)
        self.features = features

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.fc(x.reshape(x.shape[0], -1))


class DeepLinearEncoder(nnx.Module):
    r"""$z = W_2 W_1 x$ on flattened inputs, no biases, no nonlinearity: a deep linear network (the first
    rung of the assumption ladder above the theory's single W). Entries start N(0, 1/fan-in)."""

    def __init__(self, in_features: int, hidden: int, features: int, *, dtype=None, rngs: nnx.Rngs):
        self.fc1 = nnx.Linear(in_features, hidden, use_bias=False, dtype=dtype,
                              kernel_init=nnx.initializers.normal(1.0 / math.sqrt(in_features)), rngs=rngs)
        self.fc2 = nnx.Linear(hidden, features, use_bias=False, dtype=dtype,
                              kernel_init=nnx.initializers.normal(1.0 / math.sqrt(hidden)), rngs=rngs)
        self.features = features

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.fc2(self.fc1(x.reshape(x.shape[0], -1)))


class Projector(nnx.Module):
    """Linear -> BN -> ReLU -> Linear (BYOL's projector); `output_bn`: then a BatchNorm without scale and
    offset (SimSiam's and DirectPred's projectors end with BN), which removes the projections' shared mean
    direction."""

    def __init__(self, in_features: int, hidden: int, out: int, output_bn: bool = False, *, dtype=None,
                 rngs: nnx.Rngs):
        self.fc1 = nnx.Linear(in_features, hidden, dtype=dtype, rngs=rngs)
        self.bn = _bn(hidden, dtype, rngs)
        self.fc2 = nnx.Linear(hidden, out, dtype=dtype, rngs=rngs)
        self.out_bn = (nnx.BatchNorm(out, momentum=BN_MOMENTUM, epsilon=1e-5, use_bias=False, use_scale=False,
                                     dtype=dtype, rngs=rngs) if output_bn else None)

    def __call__(self, h: jax.Array) -> jax.Array:
        f = self.fc2(nnx.relu(self.bn(self.fc1(h))))
        return f if self.out_bn is None else self.out_bn(f)

    def last_layer(self) -> tuple[jax.Array, jax.Array | None]:
        """(kernel, bias) of the layer that feeds the predictor."""
        return self.fc2.kernel[...], self.fc2.bias[...]


class Tower(nnx.Module):
    """Encoder, then projector (or none): returns (features h, projection f = predictor input). Inputs are
    reshaped to `input_shape` first (flat vectors read as images, e.g. synthetic data for a ResNet)."""

    def __init__(self, encoder: nnx.Module, projector: Projector | None, input_shape: tuple[int, ...]):
        self.encoder = encoder
        self.projector = projector
        self.input_shape = tuple(input_shape)

    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = self.encoder(x.reshape((x.shape[0],) + self.input_shape))
        f = h if self.projector is None else self.projector(h)
        return h, f


class LinearPredictor(nnx.Module):
    r"""$p = W_p f$, no bias; `symmetric`: $W_p = (K + K^T)/2$, so its gradient is symmetrized (the A3
    predictor of Theorem 3). $W_p$ starts with N(0, scale^2/d) entries (`init="random"`, the simulator's
    random init) or as scale I (`init="identity"`)."""

    def __init__(self, dim: int, symmetric: bool = False, init: str = "random", scale: float = 1.0, *,
                 dtype=None, rngs: nnx.Rngs):
        if init == "identity":
            kernel = scale * jnp.eye(dim, dtype=jnp.float32)
        else:
            kernel = nnx.initializers.normal(scale / math.sqrt(dim))(rngs.params(), (dim, dim), jnp.float32)
        self.kernel = nnx.Param(kernel)
        self.symmetric = symmetric
        self.dtype = dtype

    def matrix(self) -> jax.Array:
        r"""$W_p$ in the theory's column convention ($p = W_p f$)."""
        k = self.kernel[...]
        return 0.5 * (k + k.T) if self.symmetric else k.T

    def __call__(self, f: jax.Array) -> jax.Array:
        wp = self.matrix()
        if self.dtype is not None:
            wp, f = wp.astype(self.dtype), f.astype(self.dtype)
        return f @ wp.T


class MLPPredictor(nnx.Module):
    """Linear -> BN -> ReLU -> Linear (BYOL's predictor)."""

    def __init__(self, dim: int, hidden: int, *, dtype=None, rngs: nnx.Rngs):
        self.fc1 = nnx.Linear(dim, hidden, dtype=dtype, rngs=rngs)
        self.bn = _bn(hidden, dtype, rngs)
        self.fc2 = nnx.Linear(hidden, dim, dtype=dtype, rngs=rngs)

    def __call__(self, f: jax.Array) -> jax.Array:
        return self.fc2(nnx.relu(self.bn(self.fc1(f))))


def build_tower(model: str, input_shape: tuple[int, ...], widths: tuple[int, int, int, int], stem: str,
                projector_output_bn: bool = False, *, dtype=None, rngs: nnx.Rngs) -> Tower:
    """The online tower for `model` on inputs of `input_shape` (H, W, C) or (d,)."""
    feat, hidden, out, _ = widths
    if model in ("resnet18", "resnet-small"):
        if len(input_shape) != 3:
            raise ValueError(f"model {model!r} needs images, got inputs of shape {input_shape}")
        build = resnet18 if model == "resnet18" else resnet_small
        encoder = build(stem, input_shape[-1], dtype=dtype, rngs=rngs)
    elif model == "mlp":
        encoder = MLPEncoder(math.prod(input_shape), 256, feat, dtype=dtype, rngs=rngs)
    elif model == "linear":
        encoder = LinearEncoder(math.prod(input_shape), feat, dtype=dtype, rngs=rngs)
    elif model == "deep-linear":
        encoder = DeepLinearEncoder(math.prod(input_shape), DEEP_LINEAR_HIDDEN, feat, dtype=dtype, rngs=rngs)
    else:
        raise ValueError(f"model = {model!r}")
    projector = Projector(encoder.features, hidden, out, projector_output_bn, dtype=dtype, rngs=rngs) if out else None
    return Tower(encoder, projector, input_shape)


def build_predictor(kind: str, dim: int, hidden: int, init: str = "random", scale: float = 1.0, *, dtype=None,
                    rngs: nnx.Rngs) -> nnx.Module | None:
    """A trained predictor (`linear`, `symmetric`, `mlp`), or None (identity and closed forms: Wp is
    not a parameter); `init`, `scale`: a linear predictor's initial weights (see `LinearPredictor`)."""
    if kind in ("linear", "symmetric"):
        return LinearPredictor(dim, symmetric=kind == "symmetric", init=init, scale=scale, dtype=dtype, rngs=rngs)
    if kind == "mlp":
        return MLPPredictor(dim, hidden, dtype=dtype, rngs=rngs)
    return None
