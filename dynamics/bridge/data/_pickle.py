"""A restricted unpickler for the CIFAR-10 python batches: numpy arrays, nothing that runs code.

Unpickling calls whatever global a pickle names, so a crafted file can run any code. The CIFAR-10
batches only need numpy's array reconstruction (a dict of lists, byte strings and one uint8 array),
so `find_class` hands out exactly those names and refuses every other one without importing or
calling it.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

__all__ = ["ALLOWED_GLOBALS", "RefusedGlobal", "RestrictedUnpickler", "restricted_loads"]


def _reconstruct() -> Any:
    """numpy's `_reconstruct` (in `numpy._core.multiarray` since numpy 2, `numpy.core` before)."""
    core = getattr(np, "_core", None) or np.core  # numpy 1.x has no numpy._core
    return core.multiarray._reconstruct


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    # The spelling in the CIFAR-10 files (written by numpy 1.x) and the numpy-2 spelling.
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct(),
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}
"""The only globals a CIFAR-10 batch may name: (module, name) -> the object handed out."""


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle named a global outside `ALLOWED_GLOBALS`; it was neither imported nor called."""

    def __init__(self, module: str, name: str):
        self.module = module
        self.name = name
        super().__init__(f"refused global {module}.{name}")


class RestrictedUnpickler(pickle.Unpickler):
    """A `pickle.Unpickler` whose `find_class` serves only `ALLOWED_GLOBALS`.

    Every other global (e.g. `os.system`, `builtins.eval`) raises `RefusedGlobal` before anything is
    imported. Persistent ids are refused too (`pickle.Unpickler` does so when `persistent_load` is
    not defined).
    """

    def find_class(self, module: str, name: str) -> Any:
        """The allowed object for `module.name`.

        **Raises:** `RefusedGlobal` for every name outside `ALLOWED_GLOBALS`.
        """
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise RefusedGlobal(module, name) from None


def restricted_loads(data: bytes) -> Any:
    """Unpickle `data` with `RestrictedUnpickler`, byte strings kept as `bytes` (`encoding="bytes"`).

    The CIFAR-10 batches were written by Python 2: their keys and strings are byte strings, which
    `encoding="bytes"` keeps (keys come back as `b"data"`, `b"labels"`, …).

    **Arguments:**

    - `data`: the pickle.

    **Returns:** the unpickled object.

    **Raises:** `RefusedGlobal` for a disallowed global; whatever `pickle` raises for a malformed or
    truncated pickle (`pickle.UnpicklingError`, `EOFError`, `ValueError`, …).
    """
    return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
