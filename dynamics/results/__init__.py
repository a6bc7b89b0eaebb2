"""The result schema (xarray), diagnostics and atomic file output."""

from ._dataset import full_dataset as full_dataset
from ._dataset import modes_dataset as modes_dataset
from ._dataset import theory_equations as theory_equations
from ._diagnostics import full_diagnostics as full_diagnostics
from ._diagnostics import mode_diagnostics as mode_diagnostics
from ._io import atomic_write as atomic_write
from ._io import read_netcdf as read_netcdf
from ._io import write_netcdf as write_netcdf
