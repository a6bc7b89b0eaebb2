"""Atomic file writes: a temporary file in the target's folder, then `os.replace`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import xarray as xr

__all__ = ["atomic_write", "write_netcdf", "read_netcdf"]


def atomic_write(path: str | Path, write: Callable[[Path], None], suffix: str = "") -> Path:
    """Call `write(tmp_path)` then rename onto `path`, so readers never see a partial file. The file
    gets the permissions of an ordinary new file (0666 less the umask), not mkstemp's 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write `ds` to a netCDF4 file atomically."""
    return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"), suffix=".nc")


def read_netcdf(path: str | Path) -> xr.Dataset:
    """Load a result file fully into memory (the file is closed on return)."""
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.load()
