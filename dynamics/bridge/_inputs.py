"""Inputs of a run: the dataset, the view sampler, clean inputs for evaluation and the fixed probe set."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..flows import psd_sqrt
from ._config import TrainConfig
from ._synthetic import load_synthetic, synthetic_probe_views, synthetic_statistics
from .data import Dataset

__all__ = ["load_run_dataset", "input_shape", "make_views", "make_clean", "probe_views", "augment_kind",
           "pretrain_labels"]


def load_run_dataset(config: TrainConfig) -> Dataset:
    """The dataset of `config` (`synthetic` is built from the simulator's data statistics)."""
    if config.dataset == "synthetic":
        return load_synthetic(config)
    from .data import load_dataset

    kwargs: dict = {}
    if config.dataset == "digits":
        kwargs = {"image_size": config.image_size or 16, "seed": config.data_seed}
    elif config.dataset == "stl10":
        kwargs = {"max_unlabeled": config.max_unlabeled}
    return load_dataset(config.dataset, config.data_dir, download=config.download, verify=config.verify, **kwargs)


def pretrain_labels(dataset: Dataset) -> np.ndarray:
    """Labels of the pre-training examples, for the online probe (-1: unlabelled, ignored). The pre-training
    set is the labelled train split itself (CIFAR-10, digits, synthetic), or begins with it (STL-10:
    train, then the unlabeled split, whose missing labels never reach a probe)."""
    labels = np.full(len(dataset.pretrain), -1, dtype=np.int32)
    if dataset.pretrain is dataset.train_x or dataset.name == "stl10":
        labels[:len(dataset.train_y)] = dataset.train_y
    return labels


def _out_size(config: TrainConfig, dataset: Dataset) -> int:
    return config.image_size or dataset.pretrain.shape[1]


def input_shape(config: TrainConfig, dataset: Dataset) -> tuple[int, ...]:
    """Shape of one network input: (size, size, channels) for images, (d,) for vectors."""
    if dataset.kind == "vectors":
        if config.dataset == "synthetic" and config.synthetic_image_size:
            return (config.synthetic_image_size, config.synthetic_image_size, 3)
        return (dataset.pretrain.shape[1],)
    size = _out_size(config, dataset)
    return (size, size, dataset.pretrain.shape[3])


def augment_kind(config: TrainConfig, dataset: Dataset) -> str:
    """`byol` (images), `light` (digits), `additive` (synthetic vectors) or `none`."""
    if config.augment != "auto":
        return config.augment
    if dataset.kind == "vectors":
        return "additive"
    return "light" if dataset.name == "digits" else "byol"


def view_recipes(kind: str) -> tuple:
    """The two views' recipes of `byol` (BYOL's asymmetric pair) or `light` (the same with crops of at
    least 40% of the image and no blur or solarize: the digits are 8 x 8 pixels upsampled, which BYOL's
    8% crops and blur wipe out)."""
    import dataclasses

    from .augment import BYOL_VIEW_1, BYOL_VIEW_2

    if kind == "light":
        return tuple(dataclasses.replace(r, crop_scale=(0.4, 1.0), blur_p=0.0, solarize_p=0.0)
                     for r in (BYOL_VIEW_1, BYOL_VIEW_2))
    return (BYOL_VIEW_1, BYOL_VIEW_2)


def make_clean(config: TrainConfig, dataset: Dataset) -> Callable[[jax.Array], jax.Array]:
    """Stored inputs -> normalized network inputs without augmentation (uint8 images are scaled to
    [0, 1], resized to the training size when it differs, and standardized per channel)."""
    if dataset.kind == "vectors":
        return lambda x: x.astype(jnp.float32)
    from .augment import normalize

    size = _out_size(config, dataset)
    mean, std = dataset.mean, dataset.std

    def clean(x: jax.Array) -> jax.Array:
        x = x.astype(jnp.float32) / 255.0
        if x.shape[1] != size:
            x = jax.image.resize(x, (x.shape[0], size, size, x.shape[3]), "linear")
        return normalize(x, mean, std)

    return clean


def make_views(config: TrainConfig, dataset: Dataset) -> Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    r"""`views(key, batch) -> (v1, v2)`: BYOL's asymmetric recipe for images (`dynamics.bridge.augment`),
    normalized; for synthetic vectors $v = x + L'\xi$ with $L' L'^T = X'$ and $\xi \sim N(0, I)$ drawn per
    view and sample (the additive views of THEORY.md §1, $E[v_1 v_2^T] = X$, $E[v v^T] = X + X'$);
    `none`: both views are the clean input."""
    kind = augment_kind(config, dataset)
    clean = make_clean(config, dataset)
    if kind == "none":
        return lambda key, x: (clean(x), clean(x))
    if kind == "additive":
        L = jnp.asarray(psd_sqrt(synthetic_statistics(config).Xprime), jnp.float32)

        def additive(key, x):
            k1, k2 = jax.random.split(key)
            x = x.astype(jnp.float32)
            return (x + jax.random.normal(k1, x.shape, jnp.float32) @ L.T,
                    x + jax.random.normal(k2, x.shape, jnp.float32) @ L.T)

        return additive
    from .augment import byol_views, normalize

    size = _out_size(config, dataset)
    mean, std = dataset.mean, dataset.std
    recipes = view_recipes(kind)

    def byol(key, x):
        v1, v2 = byol_views(key, x, size, recipes)
        return normalize(v1, mean, std), normalize(v2, mean, std)

    return byol


def probe_views(config: TrainConfig, dataset: Dataset) -> np.ndarray:
    """The fixed probe set, (views, n, *input_shape) float32: for synthetic vectors the moment-matched
    pairs of `synthetic_probe_views`; for images `probe_size` pre-training images (a seeded choice),
    each under `probe_views` fixed augmentations (alternating BYOL's two view recipes), normalized."""
    if dataset.kind == "vectors":
        if augment_kind(config, dataset) == "additive" and dataset.name == "synthetic":
            return synthetic_probe_views(config)
        x = dataset.pretrain[np.random.default_rng([config.seed, 11]).permutation(len(dataset.pretrain))
                             [: config.probe_size]]
        return np.stack([x, x]).astype(np.float32)
    rng = np.random.default_rng([config.seed, 11])
    idx = np.sort(rng.choice(len(dataset.pretrain), min(config.probe_size, len(dataset.pretrain)), replace=False))
    images = jnp.asarray(dataset.pretrain[idx])
    clean = make_clean(config, dataset)
    if augment_kind(config, dataset) == "none":
        return np.stack([np.asarray(clean(images))] * config.probe_views)
    from .augment import augment_view, normalize

    size = _out_size(config, dataset)
    key = jax.random.key(config.seed + 1_000_003)
    recipes = view_recipes(augment_kind(config, dataset))
    out = []
    for a in range(config.probe_views):
        recipe = recipes[a % 2]
        v = augment_view(jax.random.fold_in(key, a), images, recipe, size)
        out.append(np.asarray(normalize(v, dataset.mean, dataset.std)))
    return np.stack(out).astype(np.float32)
