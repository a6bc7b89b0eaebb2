"""The result schema (xarray), diagnostics, atomic file output, `open_run` and the `flags` accessor."""

from ._dataset import flow_notes as flow_notes
from ._dataset import full_dataset as full_dataset
from ._dataset import modes_dataset as modes_dataset
from ._dataset import theory_equations as theory_equations
from ._diagnostics import commutator_norm as commutator_norm
from ._diagnostics import effective_rank as effective_rank
from ._diagnostics import full_diagnostics as full_diagnostics
from ._diagnostics import mode_diagnostics as mode_diagnostics
from ._diagnostics import participation_ratio as participation_ratio
from ._diagnostics import projector_distance as projector_distance
from ._outcome import OUTCOME_TOLERANCES as OUTCOME_TOLERANCES
from ._outcome import SpectrumOutcome as SpectrumOutcome
from ._outcome import spectrum_outcome as spectrum_outcome
from ._io import atomic_write as atomic_write
from ._io import read_netcdf as read_netcdf
from ._io import write_netcdf as write_netcdf
from ._open import FlagsAccessor as FlagsAccessor  # registers `DataArray.flags`
from ._open import open_run as open_run
