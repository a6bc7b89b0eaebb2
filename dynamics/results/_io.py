"""Result files: netCDF written atomically (`atomic_write`, from `dynamics.config`) and read back."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from ..config import atomic_write

__all__ = ["atomic_write", "write_netcdf", "read_netcdf"]


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write `ds` to a netCDF4 file atomically."""
    return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"), suffix=".nc")


def read_netcdf(path: str | Path) -> xr.Dataset:
    """Load a result file fully into memory (the file is closed on return)."""
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.load()
