"""The `Dataset` container the training bridge trains and evaluates on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._errors import DataError

__all__ = ["DATASETS", "Dataset", "channel_stats"]

DATASETS = ("cifar10", "stl10", "digits", "synthetic")
"""The dataset names `load_dataset` knows (`synthetic` is built by `dynamics.bridge.synthetic`)."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset for self-supervised pre-training and evaluation.

    Images are uint8 NHWC arrays (`(N, H, W, C)`, values 0..255); vector datasets hold float
    `(N, d)` arrays (float32 expected; float64 accepted). The arrays are shared, not copied: treat them
    as read-only. The fields are checked for consistency on construction.

    **Arguments:**

    - `name`: `"cifar10"`, `"stl10"`, `"digits"` or `"synthetic"`.
    - `pretrain`: what self-supervised training sees (no labels).
    - `train_x`, `train_y`: the labeled split that fits linear probes and the kNN bank; labels int32.
    - `test_x`, `test_y`: the held-out split; labels int32.
    - `num_classes`: the number of classes; labels lie in `0..num_classes-1`.
    - `class_names`: one name per class.
    - `mean`, `std`: per-channel mean and standard deviation of `pretrain` in [0, 1] units (for
      normalization); `()` for vectors.
    - `source`: where the data came from (path and format, `"sklearn"`, …).
    - `verified`: whether the files' checksums were verified.

    **Raises:** `DataError` (a `ConfigError`) naming the field that is inconsistent.
    """

    name: str
    pretrain: np.ndarray
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    num_classes: int
    class_names: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str
    verified: bool

    def __post_init__(self) -> None:
        def bad(field: str, value: object, allowed: str) -> DataError:
            return DataError(f"{self.name}.{field}", value, allowed)

        pre = self.pretrain
        if pre.ndim == 4:
            if pre.dtype != np.uint8:
                raise bad("pretrain", str(pre.dtype), "images must be uint8 (N, H, W, C)")
            channels = pre.shape[-1]
            if len(self.mean) != channels or len(self.std) != channels:
                raise bad("mean", self.mean, f"must hold one value per channel ({channels}), as std")
        elif pre.ndim == 2:
            if not np.issubdtype(pre.dtype, np.floating):
                raise bad("pretrain", str(pre.dtype), "vectors must be float32 (N, d)")
            if self.mean != () or self.std != ():
                raise bad("mean", self.mean, "must be () for vectors, as std")
        else:
            raise bad("pretrain", pre.shape, "must be images (N, H, W, C) or vectors (N, d)")
        for split in ("train", "test"):
            x, y = getattr(self, f"{split}_x"), getattr(self, f"{split}_y")
            if x.dtype != pre.dtype or x.shape[1:] != pre.shape[1:]:
                raise bad(
                    f"{split}_x", f"{x.dtype} {x.shape}", f"must match pretrain ({pre.dtype} {pre.shape})"
                )
            if y.dtype != np.int32 or y.shape != (x.shape[0],):
                raise bad(f"{split}_y", f"{y.dtype} {y.shape}", f"must be int32 ({x.shape[0]},)")
            if y.size and (y.min() < 0 or y.max() >= self.num_classes):
                raise bad(
                    f"{split}_y",
                    (int(y.min()), int(y.max())),
                    f"labels must lie in 0..{self.num_classes - 1}",
                )
        if len(self.class_names) != self.num_classes:
            raise bad("class_names", len(self.class_names), f"must name {self.num_classes} classes")

    @property
    def kind(self) -> str:
        """`"images"` for (N, H, W, C) data, `"vectors"` for (N, d) data."""
        return "images" if self.pretrain.ndim == 4 else "vectors"

    @property
    def image_shape(self) -> tuple[int, int, int] | None:
        """`(H, W, C)` of the images; `None` for vectors."""
        if self.pretrain.ndim != 4:
            return None
        h, w, c = self.pretrain.shape[1:]
        return (int(h), int(w), int(c))

    def summary(self) -> str:
        """One line for logs: name, shapes, split sizes, classes, source and verification."""
        shape = "x".join(str(s) for s in self.pretrain.shape[1:])
        check = "checksums verified" if self.verified else "checksums NOT verified"
        return (
            f"{self.name}: {self.kind} {shape} {self.pretrain.dtype}, pretrain {len(self.pretrain)}, "
            f"train {len(self.train_x)}, test {len(self.test_x)}, {self.num_classes} classes; "
            f"from {self.source}; {check}"
        )


def channel_stats(images: np.ndarray, chunk: int = 1 << 22) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) standard deviation of uint8 NHWC images, in [0, 1] units.

    A histogram of the 256 values per channel is counted exactly over chunks of about `chunk`
    values (so a memory-mapped array is read once and never widened as a whole); mean and variance
    then follow from the histogram in two passes, free of cancellation.

    **Arguments:**

    - `images`: uint8 `(N, H, W, C)` with N > 0.
    - `chunk`: values per chunk (at least one image).

    **Returns:** `(mean, std)`, one float per channel each.
    """
    channels = images.shape[-1]
    step = max(1, chunk // max(1, images[0].size))
    offsets = np.arange(channels, dtype=np.intp) * 256  # channel k counts into bins 256k..256k+255
    counts = np.zeros(256 * channels, dtype=np.int64)
    for start in range(0, len(images), step):
        block = np.asarray(images[start : start + step]).reshape(-1, channels)
        counts += np.bincount((block + offsets).ravel(), minlength=256 * channels)
    hist = counts.reshape(channels, 256).astype(np.float64)
    values = np.arange(256, dtype=np.float64) / 255.0
    total = hist.sum(axis=1)
    mean = hist @ values / total
    var = (hist * (values[None, :] - mean[:, None]) ** 2).sum(axis=1) / total
    return tuple(float(m) for m in mean), tuple(float(v) for v in np.sqrt(var))
