"""`open_sweep`: a sweep store as an xarray Dataset, every cell checked."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from ..config import ConfigError
from ._integrity import sweep_groups
from ._store import read_store

__all__ = ["open_sweep"]


def open_sweep(path: str | Path, group: str | None = None) -> xr.Dataset:
    """Open a sweep store (written by `ssl-dynamics sweep` or `dynamics.sweep(..., out=...)`).

    **Arguments:**

    - `path`: the store, a `.zarr` folder.
    - `group`: which sweep of the store (the main job writes `modes` and `full`); may be left out
      when the store holds one.

    **Returns:** the group as an in-memory `xarray.Dataset` (`read_store`): only chunks that are
    done and pass their checksum are read, every other cell is marked not computed (NaN, outcome
    `not_computed`, status -1; counted in `attrs["not_computed"]`). Decode the integer flags with
    the `flags` accessor: `ds.outcome.flags.labels`, `ds.outcome.flags.counts()`.

    **Raises:** `ConfigError` when the path is not a sweep store, when `group` is not one of its
    groups, or when it is left out and the store holds several (the message names them).
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError("path", str(path), "does not exist (a sweep store is the .zarr folder given to "
                          "ssl-dynamics sweep --out)")
    if not path.is_dir():
        hint = "; a result file of simulate or train opens with dynamics.open_run" if path.suffix == ".nc" else ""
        raise ConfigError("path", str(path), f"is not a sweep store (a .zarr folder){hint}")
    groups = sweep_groups(path)
    if not groups:
        raise ConfigError("path", str(path), "holds no sweep group; not a sweep store")
    if group is None:
        if len(groups) > 1:
            raise ConfigError("group", None, f"{path} holds {len(groups)} sweep groups: {', '.join(groups)}; choose "
                              f"one, e.g. dynamics.open_sweep({str(path)!r}, group={groups[0]!r})")
        group = groups[0]
    elif group not in groups:
        raise ConfigError("group", group, f"is not a group of {path}; its groups: {', '.join(groups)}")
    return read_store(path, group)
