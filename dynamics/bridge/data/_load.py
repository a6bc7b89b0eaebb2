"""`load_dataset`: one entry point that dispatches on the dataset's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dynamics.config import ConfigError

from ._cifar import load_cifar10
from ._dataset import DATASETS, Dataset
from ._digits import load_digits
from ._errors import DataError
from ._stl10 import load_stl10

__all__ = ["load_dataset"]

_OPTIONS = {
    "cifar10": ("checksums", "fmt"),
    "stl10": ("checksums", "max_unlabeled"),
    "digits": ("image_size", "seed", "n_train"),
}


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    *,
    download: bool = False,
    verify: bool = True,
    **kwargs: Any,
) -> Dataset:
    """Load a dataset by name: `"cifar10"`, `"stl10"` or `"digits"`.

    **Arguments:**

    - `name`: one of `DATASETS`; `"synthetic"` is built by `dynamics.bridge.synthetic`, not here.
    - `data_dir`: the folder with the archive or its extracted folder (CIFAR-10, STL-10); ignored
      for `"digits"`, which ships with scikit-learn.
    - `download`, `verify`: as for `load_cifar10` / `load_stl10`; ignored for `"digits"`.
    - `kwargs`: the loader's own options: `checksums`, `fmt` (cifar10); `checksums`,
      `max_unlabeled` (stl10); `image_size`, `seed`, `n_train` (digits). An option set to `None`
      counts as not given (its default applies), so a CLI can pass every option it has.

    **Returns:** the `Dataset`.

    **Raises:** `ConfigError` for an unknown name, `"synthetic"`, or an option the loader does not
    take; `DataError` (a `ConfigError`) when `data_dir` is missing for a file dataset, or from the
    loader.
    """
    if name == "synthetic":
        raise ConfigError(
            "dataset",
            name,
            "is built from the simulator's data statistics by dynamics.bridge.synthetic, "
            "not loaded from files",
        )
    if name not in _OPTIONS:
        raise ConfigError("dataset", name, f"must be one of {', '.join(DATASETS)}")
    kwargs = {key: value for key, value in kwargs.items() if value is not None}  # None: not given
    unknown = sorted(set(kwargs) - set(_OPTIONS[name]))
    if unknown:
        raise ConfigError(f"{name} options", unknown, f"not taken; {name} takes {', '.join(_OPTIONS[name])}")
    if name == "digits":
        return load_digits(**kwargs)
    if data_dir is None:
        raise DataError(
            "data_dir",
            None,
            f"{name} is read from files: pass the folder that holds its archive (--data-dir DIR), "
            "with download=True (--download) to fetch it there",
        )
    loader = load_cifar10 if name == "cifar10" else load_stl10
    return loader(data_dir, download=download, verify=verify, **kwargs)
