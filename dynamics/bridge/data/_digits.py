"""scikit-learn's bundled 8x8 digits as small RGB images: the dataset every fresh install has.

Facts from scikit-learn's documentation (`sklearn.datasets.load_digits`): 1 797 grayscale images of
the digits 0..9, 8x8 pixels with integer values 0..16 (a copy of the test set of the UCI optical
recognition of handwritten digits data), shipped inside the scikit-learn package.
"""

from __future__ import annotations

import numpy as np

from dynamics.config import ConfigError

from ._dataset import Dataset, channel_stats
from ._errors import DataError

__all__ = ["DIGITS_SIZE", "load_digits"]

DIGITS_SIZE = 1797
"""Images in scikit-learn's digits (from its documentation)."""

_SIDE = 8
_MAX = 16  # pixel values lie in 0..16


def _upsample(images: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize of (N, 8, 8) to (N, size, size): output pixel i reads input pixel
    `floor(i * 8 / size)`, so a multiple of 8 repeats each pixel exactly (16: 2x2 blocks)."""
    index = (np.arange(size) * _SIDE) // size
    return images[:, index][:, :, index]


def load_digits(*, image_size: int = 16, seed: int = 0, n_train: int = 1500) -> Dataset:
    """scikit-learn's digits as uint8 RGB images, split by a seeded permutation.

    Each 8x8 image (values 0..16) is upsampled to `image_size` x `image_size` by nearest neighbour
    (each pixel becomes a block; no new gray levels), scaled to 0..255 (`round(v * 255 / 16)`), and
    its gray channel repeated three times, so the image models and augmentations built for CIFAR-10
    apply unchanged. A permutation drawn with `numpy.random.default_rng(seed)` puts its first
    `n_train` images in the training split and the rest (297 with the defaults) in the test split;
    pre-training uses the training split. No file is read beyond the one scikit-learn ships, so
    there is no checksum: `verified` is `False` and no warning is issued.

    **Arguments:**

    - `image_size`: the side of the output images, at least 8.
    - `seed`: the seed of the split permutation.
    - `n_train`: images in the training split, 1..1796.

    **Returns:** a `Dataset` with `pretrain` = `train_x` uint8 (n_train, image_size, image_size, 3),
    `test_x` uint8 (1797 - n_train, …), int32 labels 0..9, class names `"0"`..`"9"`.

    **Raises:** `ConfigError` for an `image_size` below 8 or an `n_train` outside 1..1796.
    """
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < _SIDE:
        raise ConfigError(
            "image_size", image_size, f"must be an int >= {_SIDE} (the digits are 8x8 and are only upsampled)"
        )
    if isinstance(n_train, bool) or not isinstance(n_train, int) or not 1 <= n_train < DIGITS_SIZE:
        raise ConfigError(
            "n_train",
            n_train,
            f"must be an int in 1..{DIGITS_SIZE - 1} (the digits hold {DIGITS_SIZE} images)",
        )
    import sklearn
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    gray = np.asarray(bunch.images)
    labels = np.asarray(bunch.target).astype(np.int32)
    if gray.shape != (DIGITS_SIZE, _SIDE, _SIDE):  # a different scikit-learn release
        raise DataError("digits", gray.shape, f"scikit-learn's digits must be ({DIGITS_SIZE}, 8, 8)")
    pixels = np.rint(gray * (255.0 / _MAX)).astype(np.uint8)
    images = np.repeat(_upsample(pixels, image_size)[..., None], 3, axis=-1)
    order = np.random.default_rng(seed).permutation(DIGITS_SIZE)
    train, test = order[:n_train], order[n_train:]
    train_x = np.ascontiguousarray(images[train])
    mean, std = channel_stats(train_x)
    return Dataset(
        name="digits",
        pretrain=train_x,
        train_x=train_x,
        train_y=labels[train],
        test_x=np.ascontiguousarray(images[test]),
        test_y=labels[test],
        num_classes=10,
        class_names=tuple(str(d) for d in range(10)),
        mean=mean,
        std=std,
        source=(
            f"sklearn.datasets.load_digits (scikit-learn {sklearn.__version__}), "
            f"{image_size}x{image_size} nearest, seed {seed}"
        ),
        verified=False,
    )
