"""Sweeps over any configuration field: batched, chunked, resumable, optionally spread with Dask."""

from ._axes import UNSWEEPABLE as UNSWEEPABLE
from ._axes import UNSWEEPABLE_REASONS as UNSWEEPABLE_REASONS
from ._axes import sweepable_fields as sweepable_fields
from ._axes import Axis as Axis
from ._axes import make_axes as make_axes
from ._axes import parse_axis as parse_axis
from ._grid import Grid as Grid
from ._outcome import OUTCOME_THRESHOLDS as OUTCOME_THRESHOLDS
from ._outcome import Outcome as Outcome
from ._outcome import classify_modes as classify_modes
from ._outcome import stable_fixed_point as stable_fixed_point
from ._outcome import time_to_converge as time_to_converge
from ._sweep import check_sweep as check_sweep
from ._sweep import sweep as sweep
from ._integrity import GroupReport as GroupReport
from ._integrity import inspect_group as inspect_group
from ._integrity import sweep_groups as sweep_groups
from ._store import read_store as read_store
from ._defaults import MainJob as MainJob
from ._defaults import main_jobs as main_jobs
from ._open import open_sweep as open_sweep
from ._summary import NOT_CONVERGED_WARN_FRACTION as NOT_CONVERGED_WARN_FRACTION
from ._summary import NotConvergedWarning as NotConvergedWarning
from ._summary import convergence_note as convergence_note
from ._summary import suggested_t_max as suggested_t_max
