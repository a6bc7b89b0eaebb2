"""Opening results: `open_run` for a netCDF result, and the `flags` accessor that decodes the
integer flag variables (`status`, `outcome`, ...) through their CF attributes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..config import ConfigError
from ._io import read_netcdf

__all__ = ["open_run", "FlagsAccessor"]


def open_run(path: str | Path) -> xr.Dataset:
    """Open one result file: a `simulate` run (`run.nc`), a training log (`log.nc`, or the run
    folder of `ssl-dynamics train` that holds it) or any netCDF file in the result schema.

    **Returns:** the Dataset, loaded into memory (the file is closed). `ds.status.flags.label`
    names the solver status.

    **Raises:** `ConfigError` naming the path when it does not exist, is a sweep store (use
    `dynamics.open_sweep`) or is not a readable netCDF file.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "log.nc").is_file():
            path = path / "log.nc"
        elif (path / "zarr.json").is_file() or path.suffix == ".zarr":
            raise ConfigError("path", str(path), "is a sweep store; open it with dynamics.open_sweep")
        else:
            raise ConfigError("path", str(path), "is a folder without a log.nc; expected a result file (.nc)")
    if not path.is_file():
        raise ConfigError("path", str(path), "does not exist (expected a result file written by ssl-dynamics "
                          "simulate or train)")
    try:
        return read_netcdf(path)
    except (OSError, ValueError) as err:
        raise ConfigError("path", str(path), f"is not a readable netCDF result file ({type(err).__name__}: "
                          f"{str(err)[:120]})") from None


@xr.register_dataarray_accessor("flags")
class FlagsAccessor:
    """Names for an integer flag variable with CF attributes `flag_values` / `flag_meanings`
    (`outcome` and `status` of sweeps, `status` of runs):

    ```python
    ds.outcome.flags.labels             # DataArray of names ("collapsed", "fixed_point", ...)
    ds.outcome.flags.counts()           # pandas Series: cells per name, every name listed
    ds.outcome.flags.to_series()        # pandas Series with a Categorical dtype, indexed like to_series()
    ds.outcome.flags.mask("collapsed")  # boolean DataArray
    ds.status.flags.label               # the name of a scalar flag ("ok")
    ```

    The integer values and their attributes are left as they are (CF flags).
    """

    def __init__(self, da: xr.DataArray):
        self._da = da

    @property
    def meanings(self) -> dict[int, str]:
        """Flag value -> name, in the order of `flag_values`."""
        attrs = self._da.attrs
        if "flag_values" not in attrs or "flag_meanings" not in attrs:
            raise AttributeError(f"{self._da.name!r} has no CF flag attributes (flag_values, flag_meanings)")
        values = np.atleast_1d(np.asarray(attrs["flag_values"])).tolist()
        names = str(attrs["flag_meanings"]).split()
        if len(values) != len(names):
            raise ValueError(f"{self._da.name!r}: {len(values)} flag_values but {len(names)} flag_meanings")
        return {int(v): n for v, n in zip(values, names)}

    def _codes(self) -> np.ndarray:
        """Category index of every value (-1 for a value that is not a flag, e.g. NaN)."""
        lookup = {v: k for k, v in enumerate(self.meanings)}
        values = np.asarray(self._da.values)
        flat = values.reshape(-1)
        codes = np.full(flat.shape, -1, dtype=np.int64)
        finite = np.isfinite(flat) if flat.dtype.kind == "f" else np.ones(flat.shape, dtype=bool)
        for value, k in lookup.items():
            codes[finite & (flat == value)] = k
        return codes.reshape(values.shape)

    @property
    def labels(self) -> xr.DataArray:
        """The names, as a string DataArray with the variable's dims and coordinates (a value that
        is not a flag reads as "")."""
        names = np.asarray(list(self.meanings.values()) + [""], dtype=object)
        codes = self._codes()
        text = names[codes.reshape(-1)].astype(str).reshape(codes.shape)
        name = f"{self._da.name}_label" if self._da.name is not None else None
        return xr.DataArray(text, dims=self._da.dims, coords=self._da.coords, name=name,
                            attrs={"long_name": f"names of {self._da.name} (from its flag_meanings)"})

    @property
    def label(self) -> str:
        """The name of a single (scalar) flag."""
        if self._da.size != 1:
            raise ValueError(f"{self._da.name!r} holds {self._da.size} values; use .flags.labels")
        return str(self.labels.values.reshape(-1)[0])

    def categorical(self) -> pd.Categorical:
        """The flattened values as a `pandas.Categorical` whose categories are every flag name."""
        return pd.Categorical.from_codes(self._codes().reshape(-1), categories=list(self.meanings.values()))

    def to_series(self) -> pd.Series:
        """Like `DataArray.to_series()`, with the names as a Categorical dtype (every flag a category)."""
        index = self._da.to_series().index
        return pd.Series(self.categorical(), index=index, name=self._da.name)

    def counts(self) -> pd.Series:
        """Number of values per flag name (every name listed, zeros included), in flag order."""
        return pd.Series(self.categorical()).value_counts(sort=False).rename(self._da.name)

    def mask(self, *names: str) -> xr.DataArray:
        """True where the value is one of the flag `names`.

        **Raises:** `ValueError` naming an unknown flag name."""
        known = list(self.meanings.values())
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown flag name(s) {', '.join(unknown)} for {self._da.name!r}; known: {', '.join(known)}")
        wanted = [k for k, n in enumerate(known) if n in names]
        return xr.DataArray(np.isin(self._codes(), wanted), dims=self._da.dims, coords=self._da.coords)
